"""The consumer electronics and home retailer's category tree and product vocabulary (brands are invented)."""

from random import Random

from demo.products import Axis, CategoryDef

BATTERIES = "contains_batteries"
AGE_RESTRICTED = "age_restricted"


def always(kind: str):
    return lambda attributes: kind


COLOURS = ("Black", "White", "Silver", "Midnight Blue", "Sand", "Red")
NOTES = (
    ("Registered products get an extra year of cover under the {brand} warranty.",
     "Bei Registrierung verlängert {brand} die Garantie um ein Jahr."),
    ("Firmware updates are delivered over the air.", "Firmware-Updates kommen drahtlos aufs Gerät."),
    ("Packaging is plastic-free and fully recyclable.", "Die Verpackung ist plastikfrei und voll recycelbar."),
)  # fmt: skip


def _laptop(r: Random) -> dict:
    screen = r.choice((13.3, 14.0, 15.6, 16.0))
    return {
        "cpu": r.choice(("Intel Core Ultra 5 125U", "Intel Core Ultra 7 155H", "AMD Ryzen 5 8640U",
                         "AMD Ryzen 7 8845HS", "Qualcomm Snapdragon X Plus")),
        "screen_in": screen,
        "weight_kg": round(0.09 * screen + r.uniform(-0.15, 0.45), 2),
        "battery_wh": r.choice((54, 60, 70, 86)),
        "os": r.choice(("Windows 11 Home", "Windows 11 Pro", "Ubuntu 24.04 LTS")),
        "ports": "2x USB-C (Thunderbolt 4), 1x USB-A, HDMI 2.1",
    }  # fmt: skip


def _monitor(r: Random) -> dict:
    screen = r.choice((24.0, 27.0, 32.0, 34.0))
    return {
        "screen_in": screen,
        "resolution": r.choice(("2560 x 1440", "3840 x 2160")) if screen < 34 else "3440 x 1440",
        "refresh_hz": r.choice((60, 75, 144, 165, 240)),
        "panel": r.choice(("IPS", "VA", "OLED")),
        "usb_c_power_w": r.choice((65, 90, 96)),
    }


def _tablet(r: Random) -> dict:
    return {
        "screen_in": r.choice((8.7, 10.9, 11.0, 12.4)),
        "battery_h": r.choice((10, 12, 14)),
        "weight_g": r.randint(300, 620),
        "chip": r.choice(("Octa-core 2.4 GHz", "Octa-core 3.0 GHz", "Hexa-core 2.2 GHz")),
        "stylus_support": r.random() < 0.6,
    }


def _headphones(r: Random) -> dict:
    style = r.choice(("over-ear", "in-ear", "on-ear"))
    return {
        "type": style,
        "anc": r.random() < 0.7,
        "battery_h": r.choice((6, 8, 30, 40, 60)) if style != "in-ear" else r.choice((6, 8, 10)),
        "bluetooth": r.choice(("5.2", "5.3", "5.4")),
        "driver_mm": r.choice((6, 10, 11, 40, 50)),
        "weight_g": r.randint(4, 9) if style == "in-ear" else r.randint(180, 320),
    }


def _speaker(r: Random) -> dict:
    return {
        "output_w": r.choice((10, 20, 30, 60, 120)),
        "battery_h": r.choice((12, 15, 20, 24)),
        "ip_rating": r.choice(("IP67", "IPX5", "IPX7")),
        "weight_kg": round(r.uniform(0.4, 2.6), 2),
    }


def _tv(r: Random) -> dict:
    return {
        "panel": r.choice(("OLED", "QLED", "LED")),
        "resolution": r.choice(("4K UHD", "4K UHD", "8K")),
        "refresh_hz": r.choice((60, 120, 144)),
        "hdr": r.choice(("HDR10", "HDR10+, Dolby Vision")),
        "hdmi_21_ports": r.choice((2, 4)),
        "energy_class": r.choice(("E", "F", "G")),
    }


def _soundbar(r: Random) -> dict:
    return {
        "channels": r.choice(("2.1", "3.1", "5.1", "5.1.2", "7.1.4")),
        "output_w": r.choice((120, 240, 400, 580)),
        "dolby_atmos": r.random() < 0.5,
        "wireless_subwoofer": r.random() < 0.7,
    }


def _coffee(r: Random) -> dict:
    kind = r.choice(("bean-to-cup", "espresso", "filter", "capsule"))
    attributes = {
        "type": kind,
        "water_tank_l": r.choice((1.2, 1.5, 1.8, 2.0)),
        "power_w": r.choice((1350, 1450, 1500)),
        "milk_system": r.choice(("steam wand", "automatic frother", "none")),
    }
    if kind != "filter":  # a filter machine has no pump
        attributes["pressure_bar"] = r.choice((15, 19))
    return attributes


def _vacuum(r: Random) -> dict:
    kind = r.choice(("cordless stick", "robot", "canister"))
    attributes = {
        "type": kind,
        "suction_aw": r.choice((120, 150, 185, 230)),
        "dust_bin_l": r.choice((0.4, 0.6, 0.76, 2.0)),
        "noise_db": r.randint(62, 79),
    }
    if kind != "canister":  # a corded canister has no battery runtime
        attributes["runtime_min"] = r.choice((40, 60, 90, 120))
    return attributes


def _kitchen(r: Random) -> dict:
    return {
        "appliance": r.choice(("blender", "stand mixer", "air fryer", "kettle")),
        "power_w": r.choice((800, 1000, 1200, 1500, 2200)),
        "capacity_l": r.choice((1.0, 1.5, 1.7, 4.5, 5.5)),
        "dishwasher_safe_parts": r.random() < 0.7,
    }


def _knife(r: Random) -> dict:
    return {
        "blade_cm": r.choice((9, 13, 15, 20, 23)),
        "steel": r.choice(("X50CrMoV15", "VG-10 Damascus", "AUS-8")),
        "hardness_hrc": r.choice((56, 58, 60, 61)),
        "handle": r.choice(("olive wood", "POM", "pakkawood")),
    }


def _phone(r: Random) -> dict:
    return {
        "screen_in": r.choice((6.1, 6.4, 6.7)),
        "camera_mp": r.choice((48, 50, 108, 200)),
        "battery_mah": r.choice((4000, 4500, 5000, 5500)),
        "chip": r.choice(("Octa-core 3.2 GHz", "Octa-core 2.8 GHz")),
        "network": "5G",
    }


def _watch(r: Random) -> dict:
    return {
        "case_mm": r.choice((40, 42, 44, 46)),
        "battery_days": r.choice((2, 5, 7, 14)),
        "water_resistance": r.choice(("5 ATM", "10 ATM")),
        "gps": r.random() < 0.8,
    }


def _power_bank(r: Random) -> dict:
    return {
        "output_w": r.choice((20, 30, 45, 65, 100)),
        "usb_c_ports": r.choice((1, 2)),
        "weight_g": r.randint(180, 520),
    }


def _console(r: Random) -> dict:
    return {"storage_gb": r.choice((512, 825, 1000, 2000)), "max_resolution": r.choice(("4K", "1080p")), "fps": 120}


def _game(r: Random) -> dict:
    return {
        "pegi": r.choice((3, 7, 12, 16, 18, 18)),
        "genre": r.choice(("racing", "shooter", "role-playing", "platformer", "strategy", "sports")),
        "players": r.choice((1, 2, 4)),
    }


def _pegi(attributes: dict) -> str:
    return AGE_RESTRICTED if attributes["pegi"] >= 18 else "none"


CATEGORIES: tuple[CategoryDef, ...] = (
    CategoryDef("computing", "Computing", "Computer"),
    CategoryDef("laptops", "Laptops", "Laptops", parent="computing", code="LAP", products=80,
                noun=("Laptop", "Laptop"), brands=("Lumora", "Veltrix", "Kairo"),
                series=("AirBook", "ProBook", "Zenith", "Nomad"),
                spec=('{screen_in}", {cpu}', "{screen_in} Zoll, {cpu}"),
                pitch=("The {name} pairs a {cpu} with a {screen_in}-inch display and weighs {weight_kg} kg.",
                       "Das {name} kombiniert einen {cpu} mit einem {screen_in}-Zoll-Display und wiegt {weight_kg} "
                       "kg."),
                notes=(("Its {battery_wh} Wh battery lasts a working "
                        "day.", "Der Akku mit {battery_wh} Wh hält einen Arbeitstag."),
                       *NOTES),
                price=(549, 2199), margin=(0.06, 0.16), compliance=always(BATTERIES), attributes=_laptop,
                axes=(Axis("ram_gb", (8, 16, 32), 0.12), Axis("storage_gb", (256, 512, 1024), 0.08),
                      Axis("colour", ("Silver", "Space Grey", "Midnight Blue"), pick=1))),
    CategoryDef("monitors", "Monitors", "Monitore", parent="computing", code="MON", products=45,
                noun=("Monitor", "Monitor"), brands=("Lumora", "Vistaro", "Kairo"),
                series=("ViewPro", "Clarity", "Arc"),
                spec=('{screen_in}", {resolution}, {refresh_hz} Hz', "{screen_in} Zoll, {resolution}, {refresh_hz} Hz"),
                pitch=("A {screen_in}-inch {panel} panel at {resolution} and {refresh_hz} Hz.",
                       "Ein {screen_in}-Zoll-{panel}-Panel mit {resolution} und {refresh_hz} Hz."),
                notes=(("USB-C delivers up to {usb_c_power_w} W to a connected laptop.",
                        "USB-C liefert bis zu {usb_c_power_w} W an ein angeschlossenes Notebook."), *NOTES),
                price=(149, 1099), margin=(0.08, 0.18), attributes=_monitor,
                axes=(Axis("stand", ("Tilt stand", "Height-adjustable stand"), 0.06),)),
    CategoryDef("tablets", "Tablets", "Tablets", parent="computing", code="TAB", products=35,
                noun=("Tablet", "Tablet"), brands=("Veltrix", "Orbi"), series=("Slate", "Pad", "Canvas"),
                spec=('{screen_in}"', "{screen_in} Zoll"),
                pitch=("A {screen_in}-inch tablet ({chip}) with up to {battery_h} hours of video playback.",
                       "Ein {screen_in}-Zoll-Tablet ({chip}) mit bis zu {battery_h} Stunden Videowiedergabe."),
                notes=NOTES, price=(199, 999), margin=(0.08, 0.18), compliance=always(BATTERIES), attributes=_tablet,
                axes=(Axis("storage_gb", (64, 128, 256), 0.15), Axis("connectivity", ("Wi-Fi", "Wi-Fi + 5G"), 0.2),
                      Axis("colour", ("Silver", "Black", "Sand"), pick=1))),
    CategoryDef("audio", "Audio", "Audio"),
    CategoryDef("headphones", "Headphones", "Kopfhörer", parent="audio", code="HPH", products=70,
                noun=("Headphones", "Kopfhörer"), brands=("Sonora", "Aurelia", "Brennan Audio"),
                series=("Quiet", "Pulse", "Studio", "Motion"),
                spec=("{type}", "{type}"),
                pitch=("Wireless {type} headphones with Bluetooth {bluetooth} and up to {battery_h} hours per charge.",
                       "Kabellose {type}-Kopfhörer mit Bluetooth {bluetooth} und bis zu {battery_h} Stunden "
                       "Akkulaufzeit."),
                notes=(("{driver_mm} mm drivers tuned for a warm, detailed sound.",
                        "{driver_mm}-mm-Treiber für einen warmen, detailreichen Klang."), *NOTES),
                price=(39, 449), margin=(0.18, 0.35), compliance=always(BATTERIES), attributes=_headphones,
                axes=(Axis("colour", COLOURS[:5], pick=3),)),
    CategoryDef("speakers", "Portable speakers", "Tragbare Lautsprecher", parent="audio", code="SPK", products=40,
                noun=("Bluetooth Speaker", "Bluetooth-Lautsprecher"), brands=("Sonora", "Brennan Audio"),
                series=("Boom", "Drift", "Rover"), spec=("{output_w} W", "{output_w} W"),
                pitch=("{output_w} W of sound, {ip_rating} protection and {battery_h} hours of play.",
                       "{output_w} W Klang, Schutz nach {ip_rating} und {battery_h} Stunden Laufzeit."),
                notes=NOTES, price=(29, 399), margin=(0.2, 0.38), compliance=always(BATTERIES), attributes=_speaker,
                axes=(Axis("colour", COLOURS, pick=3),)),
    CategoryDef("tv-video", "TV & video", "TV & Video"),
    CategoryDef("televisions", "Televisions", "Fernseher", parent="tv-video", code="TV", products=40,
                noun=("TV", "Fernseher"), brands=("Vistaro", "Lumora"), series=("Cinema", "Vivid", "Horizon"),
                spec=("{panel} {resolution}", "{panel} {resolution}"),
                pitch=("A {panel} {resolution} TV at {refresh_hz} Hz with {hdr} and {hdmi_21_ports} HDMI 2.1 ports.",
                       "Ein {panel}-Fernseher in {resolution} mit {refresh_hz} Hz, {hdr} und {hdmi_21_ports} "
                       "HDMI-2.1-Anschlüssen."),
                notes=(("Energy class {energy_class} (EU label).", "Energieeffizienzklasse {energy_class} (EU-Label)."),
                       *NOTES),
                price=(349, 2999), margin=(0.05, 0.14), stock_mean=12, attributes=_tv,
                axes=(Axis("screen_in", (43, 50, 55, 65, 75), 0.25, pick=3),)),
    CategoryDef("soundbars", "Soundbars", "Soundbars", parent="tv-video", code="SND", products=25,
                noun=("Soundbar", "Soundbar"), brands=("Sonora", "Vistaro"), series=("Arena", "Stage"),
                spec=("{channels} channels", "{channels} Kanäle"),
                pitch=("A {channels}-channel soundbar with {output_w} W total output.",
                       "Eine {channels}-Kanal-Soundbar mit {output_w} W Gesamtleistung."),
                notes=NOTES, price=(149, 1299), margin=(0.12, 0.25), attributes=_soundbar,
                axes=(Axis("colour", ("Black", "White")),)),
    CategoryDef("home-kitchen", "Home & kitchen", "Haushalt & Küche"),
    CategoryDef("coffee-machines", "Coffee machines", "Kaffeemaschinen", parent="home-kitchen", code="COF",
                products=45, noun=("Coffee Machine", "Kaffeemaschine"), brands=("Brühwerk", "Caffè Nuvola"),
                series=("Barista", "Crema", "Aroma"), spec=("{type}", "{type}"),
                pitch=("A {type} coffee machine with a {water_tank_l} l water tank and {power_w} W heating.",
                       "Kaffeemaschine ({type}) mit {water_tank_l} l Wassertank und {power_w} W Heizleistung."),
                notes=(("Milk system: {milk_system}.", "Milchsystem: {milk_system}."), *NOTES),
                price=(79, 1499), margin=(0.15, 0.3), attributes=_coffee,
                axes=(Axis("colour", ("Black", "Stainless Steel", "White"), pick=2),)),
    CategoryDef("vacuum-cleaners", "Vacuum cleaners", "Staubsauger", parent="home-kitchen", code="VAC", products=40,
                noun=("Vacuum "
                      "Cleaner", "Staubsauger"), brands=("Nordhaus", "Kestrel"), series=("Cyclone", "Aero", "Scout"),
                spec=("{type}", "{type}"),
                pitch=("A {type} vacuum with {suction_aw} AW suction and a {dust_bin_l} l dust bin, at {noise_db} dB.",
                       "Staubsauger ({type}) mit {suction_aw} AW Saugleistung, {dust_bin_l} l Staubbehälter und "
                       "{noise_db} dB."),
                notes=NOTES, price=(99, 899), margin=(0.15, 0.3), attributes=_vacuum,
                compliance=lambda a: "none" if a["type"] == "canister" else BATTERIES,
                axes=(Axis("colour", ("Graphite", "White", "Copper"), pick=2),)),
    CategoryDef("kitchen-appliances", "Small kitchen appliances", "Küchenkleingeräte", parent="home-kitchen",
                code="KIT", products=50, noun=("Kitchen Appliance", "Küchengerät"), brands=("Nordhaus", "Brühwerk"),
                series=("Chef", "Daily", "Pro Kitchen"), title="{brand} {series} {model} {appliance}, {spec}",
                spec=("{power_w} W, {capacity_l} l", "{power_w} W, {capacity_l} l"),
                pitch=("A {power_w} W {appliance} holding {capacity_l} litres.",
                       "{appliance} mit {power_w} W und {capacity_l} Litern Fassungsvermögen."),
                notes=NOTES, price=(29, 499), margin=(0.2, 0.35), attributes=_kitchen,
                axes=(Axis("colour", COLOURS, pick=2),)),
    CategoryDef("kitchen-knives", "Kitchen knives", "Küchenmesser", parent="home-kitchen", code="KNF", products=25,
                noun=("Chef's Knife", "Kochmesser"), brands=("Stahlberg", "Kaito"), series=("Classic", "Damast"),
                title="{brand} {series} {noun}, {spec}", spec=("{blade_cm} cm", "{blade_cm} cm"),
                pitch=("Forged from {steel} steel, hardened to {hardness_hrc} HRC, with a handle of {handle}. Sold to "
                       "adults only.",
                       "Geschmiedet aus {steel}, gehärtet auf {hardness_hrc} HRC, mit Griff aus {handle}. Verkauf nur "
                       "an Erwachsene."),
                price=(19, 249), margin=(0.3, 0.5), compliance=always(AGE_RESTRICTED), attributes=_knife),
    CategoryDef("phones-wearables", "Phones & wearables", "Smartphones & Wearables"),
    CategoryDef("smartphones", "Smartphones", "Smartphones", parent="phones-wearables", code="PHN", products=55,
                noun=("Smartphone", "Smartphone"), brands=("Veltrix", "Orbi"), series=("Nova", "Edge", "One"),
                spec=('{screen_in}", {camera_mp} MP', "{screen_in} Zoll, {camera_mp} MP"),
                pitch=("A {screen_in}-inch 5G smartphone with a {camera_mp} MP main camera and a {battery_mah} mAh "
                       "battery.",
                       "Ein 5G-Smartphone mit {screen_in}-Zoll-Display, {camera_mp}-MP-Hauptkamera und "
                       "{battery_mah}-mAh-Akku."),
                notes=NOTES, price=(199, 1399), margin=(0.05, 0.15), compliance=always(BATTERIES), attributes=_phone,
                axes=(Axis("storage_gb", (128, 256, 512), 0.12), Axis("colour", ("Black", "Silver", "Sage", "Blue"))),),
    CategoryDef("smartwatches", "Smartwatches", "Smartwatches", parent="phones-wearables", code="WAT", products=30,
                noun=("Smartwatch", "Smartwatch"), brands=("Veltrix", "Orbi", "Kestrel"), series=("Active", "Trail"),
                spec=("{case_mm} mm", "{case_mm} mm"),
                pitch=("A {case_mm} mm smartwatch, water-resistant to {water_resistance}, running {battery_days} days "
                       "per charge.",
                       "Eine Smartwatch mit {case_mm}-mm-Gehäuse, wasserdicht bis {water_resistance}, {battery_days} "
                       "Tage Laufzeit."),
                notes=NOTES, price=(99, 599), margin=(0.15, 0.3), compliance=always(BATTERIES), attributes=_watch,
                axes=(Axis("strap", ("Sport band", "Leather", "Milanese loop"), 0.1),)),
    CategoryDef("power-banks", "Power banks", "Powerbanks", parent="phones-wearables", code="PWB", products=25,
                noun=("Power Bank", "Powerbank"), brands=("Orbi", "Kestrel"), series=("Charge", "Volt"),
                title="{brand} {series} {noun}, {spec}", spec=("{output_w} W", "{output_w} W"),
                pitch=("Charges a phone or laptop at up to {output_w} W; USB-C ports: {usb_c_ports}.",
                       "Lädt Smartphone oder Notebook mit bis zu {output_w} W; USB-C-Anschlüsse: {usb_c_ports}."),
                price=(19, 129), margin=(0.3, 0.45), compliance=always(BATTERIES), attributes=_power_bank,
                axes=(Axis("capacity_mah", (10000, 20000, 26800), 0.35), Axis("colour", ("Black", "White"), pick=1))),
    CategoryDef("gaming", "Gaming", "Gaming"),
    CategoryDef("consoles", "Consoles", "Konsolen", parent="gaming", code="CON", products=12,
                noun=("Console", "Konsole"), brands=("Nightjar",), series=("Arcadia",),
                title="{brand} {series} {model} {noun}", spec=("", ""),
                pitch=("Plays games at up to {max_resolution} and {fps} fps, with {storage_gb} GB of storage.",
                       "Spiele in bis zu {max_resolution} mit {fps} fps, {storage_gb} GB Speicher."),
                price=(299, 599), margin=(0.03, 0.08), stock_mean=15, attributes=_console,
                axes=(Axis("edition", ("Standard", "Digital"), -0.15),)),
    CategoryDef("video-games", "Video games", "Videospiele", parent="gaming", code="GAM", products=70,
                noun=("video game", "Videospiel"), brands=("Nightjar Studios", "Red Fern Games", "Polar Owl"),
                series=("Iron "
                        "Frontier", "Starfall Odyssey", "Apex Rally", "Kingdoms of Ash", "Pixel Pals", "Goal Line"),
                models=("II", "III", "Origins", "Legends", "Reckoning", "Remastered", "2025", "Deluxe"),
                title="{series}: {model}, {spec}", spec=("PEGI {pegi}", "USK/PEGI {pegi}"),
                pitch=("A {genre} game for up to {players} players by {brand}, rated PEGI {pegi}.",
                       "Ein {genre}-Spiel für bis zu {players} Spieler von {brand}, Alterseinstufung PEGI {pegi}."),
                price=(19, 79), margin=(0.15, 0.3), compliance=_pegi, attributes=_game,
                axes=(Axis("platform", ("PlayStation 5", "Xbox Series X", "Nintendo Switch", "PC"), pick=3),)),
)  # fmt: skip
