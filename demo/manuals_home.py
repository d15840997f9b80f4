"""Manual sections for the home and electronics categories: markdown formatted with a product's attributes.

Each template is formatted with the product's and its first SKU's attributes plus {brand}, {title} and
{name}; the specification table, safety and disposal sections are added by `demo.documents`.
"""

MANUALS_EN = {
    "laptops": """## Getting started

1. Connect the 65 W USB-C charger to either USB-C port and charge for 2 hours before first use.
2. Open the lid: the laptop starts automatically. Follow the {os} setup and connect to Wi-Fi.
3. Install pending updates under **Settings › Update** before you copy your data.

## Battery care

The {battery_wh} Wh battery reaches 80% in about 60 minutes. To extend its life, enable **Battery care** in the
{brand} Control Center: charging then stops at 80%. Store the laptop at 40–60% charge if you will not use it for
more than a month, and keep it between 10 °C and 35 °C.

## Memory and storage

This configuration has {ram_gb} GB of RAM (soldered, not upgradeable) and {storage_gb} GB of NVMe storage in an
M.2 2280 slot. Back up your data before replacing the SSD; the recovery image can be downloaded from the support
site with the serial number.

## Connecting displays

The ports are {ports}. Each Thunderbolt 4 port drives one 4K display at 60 Hz; HDMI 2.1 supports 4K at 120 Hz.

## Troubleshooting

| Symptom | What to do |
|---|---|
| Does not start | Connect the charger for 30 minutes, then hold the power button for 15 seconds. |
| Fan is loud | Update the BIOS and choose the **Balanced** power mode. |
| Wi-Fi drops | Disable power saving for the wireless adapter in the Control Center. |
""",
    "headphones": """## Pairing

1. Hold the power button for 5 seconds until the LED flashes blue and white.
2. On your phone, open Bluetooth settings and choose **{name}**.
3. To pair a second device, repeat step 1; the headphones remember up to 8 devices and connect to two at once.

## Controls

- Press once: play or pause. Press twice: next track. Press three times: previous track.
- Hold for 2 seconds: switch noise cancelling between **On**, **Ambient** and **Off** (active noise cancelling:
  {anc}).
- Hold both buttons for 10 seconds: reset to factory settings.

## Battery

A full charge takes 2 hours over USB-C and gives up to {battery_h} hours of playback; 10 minutes of charging
adds about 3 hours. The voice prompt says "battery low" at 10%.

## Care

Wipe the ear cushions with a damp cloth; do not use alcohol. Replacement cushions are available as spare parts.
Do not wear the headphones while charging.
""",
    "coffee-machines": """## Before first use

1. Rinse the {water_tank_l} l water tank and fill it with fresh, cold water up to the MAX mark.
2. Switch on with the main switch at the back; the machine heats up in about 40 seconds.
3. Run two cups of hot water through the machine to rinse it and discard them.

## Making coffee

1. Place a cup under the outlet and adjust its height so the coffee does not splash.
2. Choose strength (1–5 beans) and cup size (40–220 ml) on the display.
3. Press **Start**. Milk system: {milk_system}. Clean the milk system right after every use.

## Water hardness and descaling

Test your water hardness with the strip supplied and set it under **Settings › Water hardness** (1–4). At
hardness 3 the machine asks for descaling about every 3 months. Use only the {brand} liquid descaler; a
descaling cycle takes 25 minutes and needs 0.5 l of solution. Never interrupt it.

## Cleaning

- Empty the drip tray and grounds container daily.
- Clean the brewing unit under running water once a week; never put it in the dishwasher.

## Troubleshooting

| Message | Cause and remedy |
|---|---|
| "Fill water tank" | Refill the tank and make sure it clicks into place. |
| Coffee only drips | The grind is too fine: turn the grinder one step coarser while it runs. |
| "Descale" | Run the descaling programme described above. |
""",
    "televisions": """## Installation

1. Attach the stand with the four M4 x 12 screws supplied, or wall-mount with a VESA bracket rated for the TV's
   weight.
2. Leave at least 10 cm of space around the back for ventilation.
3. Connect the aerial, satellite or LAN cable and switch on with the remote.

## First setup

Choose your language and country, connect to Wi-Fi and run the channel search. The TV offers {hdr}; HDR content
is detected automatically when the source sends it.

## Picture settings

- **Filmmaker mode** shows films as graded; **Game mode** cuts input lag to under 10 ms at {refresh_hz} Hz.
- Use one of the {hdmi_21_ports} HDMI 2.1 ports for a console or PC to get 4K at 120 Hz with VRR.
- Energy class {energy_class}: the **Eco** picture mode lowers power use by about 30%.

## Software updates

The TV updates automatically overnight when it is in standby and connected to the internet. You can check under
**Settings › Support › Software update**.

## Troubleshooting

| Symptom | What to do |
|---|---|
| No signal | Check the input under **Sources** and reseat the HDMI cable. |
| Sound out of sync | Set **Audio delay** to Auto or adjust it in 10 ms steps. |
| Remote does not respond | Replace the two AAA batteries; re-pair by holding Back and Play for 5 seconds. |
""",
    "vacuum-cleaners": """## Assembly and charging

1. Click the tube and floor head together until they lock.
2. Charge fully before first use (about 4 hours); the LEDs show the charge level in steps of 25%.

## Using the vacuum

The {type} vacuum offers three power levels. Suction: {suction_aw} AW in boost mode. Runtime: up to
{runtime_min} minutes in eco mode. Noise: {noise_db} dB.

## Emptying the dust bin

Empty the {dust_bin_l} l bin when the dirt reaches the MAX line: hold it over the bin and press the red release.

## Filters

Wash the pre-filter under cold water once a month and let it dry for 24 hours before refitting. Replace the
HEPA filter every 12 months. Never run the vacuum without filters.

## Troubleshooting

| Symptom | What to do |
|---|---|
| Suction drops | Empty the bin, clean the filters, check the tube for blockages. |
| Brush roll stops | Remove hair wrapped around the roll with the cutting groove. |
| Does not charge | Check the charger LED; charge between 5 °C and 35 °C. |
""",
    "smartphones": """## Setting up

1. Insert the SIM card with the tool supplied; the tray also takes an eSIM profile via **Settings › Mobile network**.
2. Hold the side button for 3 seconds to switch on and follow the setup assistant.
3. Restore a backup or move data from your old phone with the {brand} Switch app.

## Battery and charging

The {battery_mah} mAh battery charges to 50% in about 25 minutes with a 45 W USB-C charger (not included). Turn on
**Adaptive charging** to hold the battery at 80% overnight.

## Camera

The {camera_mp} MP main camera bins pixels for bright 12 MP photos by default; switch to full resolution in the
camera settings. Night mode starts automatically below 5 lux.

## Storage

This SKU has {storage_gb} GB of storage; there is no memory card slot.

## Care

The phone is splash-resistant but not waterproof: dry it before charging. Use a screen protector; scratches are
not covered by the warranty.
""",
}

MANUALS_DE = {
    "coffee-machines": """## Vor dem ersten Gebrauch

1. Spülen Sie den {water_tank_l}-l-Wassertank aus und füllen Sie ihn bis zur Markierung MAX mit frischem, kaltem
   Wasser.
2. Schalten Sie die Maschine mit dem Hauptschalter auf der Rückseite ein; sie heizt in etwa 40 Sekunden auf.
3. Lassen Sie zwei Tassen heißes Wasser durchlaufen und gießen Sie es weg.

## Kaffee zubereiten

1. Stellen Sie eine Tasse unter den Auslauf und passen Sie dessen Höhe an.
2. Wählen Sie Stärke (1–5 Bohnen) und Tassengröße (40–220 ml) im Display.
3. Drücken Sie **Start**. Milchsystem: {milk_system}. Reinigen Sie das Milchsystem nach jedem Gebrauch.

## Wasserhärte und Entkalken

Bestimmen Sie die Wasserhärte mit dem beiliegenden Teststreifen und stellen Sie sie unter **Einstellungen ›
Wasserhärte** ein (1–4). Bei Härtestufe 3 fordert die Maschine etwa alle 3 Monate zum Entkalken auf. Verwenden
Sie nur den Flüssigentkalker von {brand}; das Programm dauert 25 Minuten und benötigt 0,5 l Lösung. Brechen Sie
es nicht ab.

## Reinigung

- Leeren Sie Tropfschale und Tresterbehälter täglich.
- Spülen Sie die Brüheinheit einmal pro Woche unter fließendem Wasser ab; nicht in die Spülmaschine geben.

## Störungen beheben

| Meldung | Ursache und Abhilfe |
|---|---|
| „Wassertank füllen" | Tank auffüllen und hörbar einrasten lassen. |
| Kaffee tröpfelt nur | Mahlgrad zu fein: das Mahlwerk bei laufendem Betrieb eine Stufe gröber stellen. |
| „Entkalken" | Das oben beschriebene Entkalkungsprogramm starten. |
""",
}
