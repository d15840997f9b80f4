"""Manual sections for the tools and industrial categories (see `manuals_home` for how they are formatted)."""

MANUALS_EN = {
    "cordless-drills": """## Intended use

This {voltage_v} V drill driver is designed for screwdriving and for drilling in wood, metal and plastics.
Hammer mode (where fitted: {hammer_mode}) is for masonry and brick, not for concrete.

## Charging the battery

1. Slide the {battery_ah} Ah battery onto the charger until it clicks. The green LED flashes while charging.
2. A {battery_ah} Ah pack charges in about {charge_min} minutes on the 4 A fast charger; the LED stays on when full.
3. Charge between 0 °C and 40 °C. A red LED means the pack is too hot or too cold: let it reach room temperature.

## Fitting a bit

Open the {chuck_mm} mm keyless chuck by turning the sleeve anticlockwise, insert the bit as far as it goes and
tighten the sleeve by hand until the ratchet clicks twice.

## Setting the torque clutch

The clutch ring has 21 positions plus a drill setting. Start at position 5 for screws up to 4 mm in softwood and
increase in steps until the screw head sits flush. The drill setting delivers the full {torque_nm} Nm; use it
only for drilling.

## Gears and speed

- Gear 1 (0–450 rpm): screwdriving and large holes.
- Gear 2 (0–{speed_rpm} rpm): small holes and fast drilling.

Change gear only when the motor is stopped.

## Maintenance

Keep the ventilation slots clean with dry compressed air. Replace the chuck if the bit slips at full grip.
Store batteries at about 50% charge.

## Troubleshooting

| Symptom | Cause and remedy |
|---|---|
| Tool stops under load | Overload protection: release the trigger and restart in gear 1. |
| Battery LEDs flash alternately | Pack too hot: let it cool for 15 minutes. |
| Chuck wobbles | Retighten the chuck screw (left-hand thread) inside the chuck. |
""",
    "impact-drivers": """## Intended use

This impact driver drives long screws and bolts up to M12 and is not suited to drilling holes in metal.

## Inserting bits

Pull the {drive} quick-release collar forward, insert the bit and release the collar. Use only impact-rated bits.

## Impact modes

| Mode | Torque | Use |
|---|---|---|
| 1 | up to 60 Nm | small screws, fixings in drywall |
| 2 | up to 140 Nm | decking and timber screws |
| 3 | up to {torque_nm} Nm | coach bolts, lag screws |

The anvil delivers up to {impact_rate_bpm} impacts per minute.

## Battery

Use the 18 V packs of the same platform; a {battery_ah} Ah pack drives about 300 screws of 6 x 100 mm.

## Maintenance

Grease the anvil every 6 months with the grease supplied. Replace the carbon brushes only at a service centre.
""",
    "angle-grinders": """## Before use

1. Check that the disc is rated for at least {speed_rpm} rpm and fits the {spindle} spindle.
2. Fit the guard so that the closed side faces you; it must not turn during use.
3. Screw in the side handle on the left or right.

## Changing the disc

Press the spindle lock, loosen the clamping nut with the two-pin spanner, change the disc and tighten the nut by
hand. Never press the spindle lock while the motor runs.

## Working

- Let the grinder reach full speed before the disc touches the workpiece.
- Cut at a 90° angle and grind at 30–40°; never use a cutting disc for grinding.
- Kickback stop: {kickback_stop}. After a kickback the tool switches off; release and press the switch again.

## Safety

Wear EN 166 eye protection, hearing protection and cut-resistant gloves. The {power_w} W motor keeps running for
up to 3 seconds after switching off.
""",
    "circular-saws": """## Setting cut depth and bevel

Loosen the depth lever, set the base plate to the cut depth (maximum {cut_depth_mm} mm at 90°) so that the teeth
project no more than 5 mm below the workpiece, then lock the lever. Bevel cuts are possible from 0° to 56°.

## Changing the blade

Unplug the saw. Press the spindle lock, loosen the flange bolt with the hex key, open the guard and fit the
{blade_mm} mm blade with the teeth pointing in the direction of the arrow on the guard.

## Cutting

Clamp the workpiece, start the saw before it touches the wood and guide it steadily along the line. Connect a
dust extractor to the 35 mm port.

## Safety

Never lock the lower blade guard open. Keep both hands on the handles and stand to the side of the cutting line.
""",
    "laser-meters": """## Switching on and measuring

1. Insert the two AAA batteries (included); press **ON/DIST** to switch on and activate the laser.
2. Press **ON/DIST** again to measure. The reference point is the rear edge by default.
3. Hold **ON/DIST** for 2 seconds for continuous measurement.

## Functions

- Area and volume: press the function key once or twice and measure two or three sides.
- Indirect height (Pythagoras): measure the hypotenuse and the horizontal distance.
- Measuring range: 0.05 to {range_m} m with an accuracy of ±{accuracy_mm} mm.

## Care

The housing is rated {ip_rating}. Clean the lens with a soft, dry cloth. Remove the batteries before storing the
meter for more than three months.

## Laser safety

Laser class 2, below 1 mW at 635 nm. Do not look into the beam or point it at people.
""",
}

MANUALS_DE = {
    "cordless-drills": """## Bestimmungsgemäßer Gebrauch

Dieser {voltage_v}-V-Bohrschrauber ist zum Schrauben und zum Bohren in Holz, Metall und Kunststoff bestimmt.

## Akku laden

1. Schieben Sie den {battery_ah}-Ah-Akku auf das Ladegerät, bis er einrastet. Die grüne LED blinkt während des
   Ladens.
2. Ein {battery_ah}-Ah-Akku lädt am 4-A-Schnellladegerät in etwa {charge_min} Minuten.
3. Laden Sie bei 0 °C bis 40 °C. Eine rote LED bedeutet: Akku zu heiß oder zu kalt.

## Drehmomentkupplung einstellen

Der Einstellring hat 21 Stufen und eine Bohrstellung. Beginnen Sie bei Stufe 5 für Schrauben bis 4 mm in
Weichholz und erhöhen Sie schrittweise. In der Bohrstellung stehen die vollen {torque_nm} Nm zur Verfügung.

## Gänge

- Gang 1 (0–450 U/min): Schrauben und große Bohrungen.
- Gang 2 (0–{speed_rpm} U/min): kleine Bohrungen.

Schalten Sie nur bei stehendem Motor um.

## Wartung

Halten Sie die Lüftungsschlitze mit trockener Druckluft sauber. Lagern Sie Akkus bei etwa 50 % Ladung.
""",
}

GUIDES_EN = {
    "lubricants": """## Product identification

{name}, {base} lubricant in an aerosol can. For maintenance of chains, hinges, guides and threads.

## Hazards

- Extremely flammable aerosol (H222). Pressurised container: may burst if heated (H229).
- Keep away from heat, hot surfaces, sparks, open flames and other ignition sources. No smoking (P210).
- Do not spray on an open flame or other ignition source (P211).

## Use

Shake well. Spray from 20 cm onto the clean, dry part and let the solvent evaporate for 2 minutes before use.
Working range: {temp_min_c} to {temp_max_c} °C.

## Storage

Protect from sunlight. Do not expose to temperatures above 50 °C. Store in a ventilated room, away from oxidising
agents.

## Transport

UN 1950 Aerosols, class 2.1, limited quantity. Ships by road only; not available for express air delivery.

## Disposal

Only empty cans go into packaging recycling. Take cans with residue to a hazardous-waste collection point.
""",
}
