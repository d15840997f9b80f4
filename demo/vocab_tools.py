"""The B2B tools and industrial supplier's category tree and product vocabulary (brands are invented)."""

from random import Random

from demo.products import Axis, CategoryDef
from demo.vocab_home import BATTERIES, always

HAZARDOUS = "hazardous"
BATTERY_AH = Axis("battery_ah", (2.0, 4.0, 5.0, 8.0), 0.18, pick=3)  # the same packs fit every 18 V tool
NOTES = (
    ("Part of the {brand} 18 V platform: one battery fits every tool in the range.",
     "Teil der 18-V-Plattform von {brand}: ein Akku passt in alle Geräte der Serie."),
    ("Trade accounts can order it on 30-day invoice terms.", "Gewerbekunden bestellen auf Rechnung mit 30 Tagen Ziel."),
    ("Spare parts stay available for at least 7 years.", "Ersatzteile sind mindestens 7 Jahre lieferbar."),
)  # fmt: skip
CONSUMABLE_NOTES = (
    ("Bulk packs cut the price per unit for site "
     "use.", "Großpackungen senken den Stückpreis für den Baustellenbedarf."),
    ("Order by 3 pm for same-day dispatch.", "Bis 15 Uhr bestellt, am selben Tag versendet."),
)  # fmt: skip


def _drill(r: Random) -> dict:
    volts = r.choice((12, 18, 18, 36))
    return {
        "voltage_v": volts,
        "torque_nm": r.choice((35, 40, 50)) if volts == 12 else r.choice((60, 80, 110, 135)),
        "chuck_mm": 10 if volts == 12 else 13,
        "speed_rpm": r.choice((1500, 1800, 2100)),
        "weight_kg": round(r.uniform(0.9, 1.9), 2),
        "brushless": r.random() < 0.7,
        "hammer_mode": r.random() < 0.5,
    }


def _impact(r: Random) -> dict:
    return {
        "voltage_v": 18,
        "torque_nm": r.choice((180, 205, 240, 300)),
        "drive": '1/4" hex',
        "impact_rate_bpm": r.choice((3200, 3600, 4000)),
        "weight_kg": round(r.uniform(1.0, 1.6), 2),
    }


def _grinder(r: Random) -> dict:
    return {
        "power_w": r.choice((900, 1100, 1400, 2400)),
        "speed_rpm": r.choice((6600, 8500, 11000)),
        "spindle": "M14",
        "kickback_stop": r.random() < 0.8,
        "weight_kg": round(r.uniform(1.9, 5.6), 2),
    }


def _saw(r: Random) -> dict:
    blade = r.choice((165, 190, 235))
    return {"blade_mm": blade, "cut_depth_mm": round(blade * 0.34), "power_w": r.choice((1200, 1400, 1800))}


def _wrench(r: Random) -> dict:
    return {"material": "chrome vanadium steel", "finish": r.choice(("satin chrome", "black phosphate")),
            "standard": "DIN 3113"}  # fmt: skip


def _screwdrivers(r: Random) -> dict:
    return {"pieces": r.choice((6, 8, 12)), "vde_1000v": r.random() < 0.5, "tips": "slotted, PH, PZ, Torx"}


def _pliers(r: Random) -> dict:
    return {
        "type": r.choice(("combination", "needle-nose", "side cutting", "water pump")),
        "length_mm": r.choice((160, 180, 200, 250)),
        "vde_1000v": r.random() < 0.4,
    }


def _screws(r: Random) -> dict:
    return {
        "material": r.choice(("zinc-plated steel", "A2 stainless steel", "A4 stainless steel")),
        "head": r.choice(("countersunk", "pan head")),
        "drive": r.choice(("Torx T20", "Torx T25", "PZ2")),
    }


def _anchors(r: Random) -> dict:
    kind = r.choice(("expansion", "wedge"))
    steels = ("zinc-plated steel", "A4 stainless steel")
    return {
        "type": kind,
        "material": r.choice(steels if kind == "wedge" else ("nylon", *steels)),  # wedge anchors are all-metal
        "load_kn": r.choice((0.8, 1.5, 3.2, 6.0)),
        "eta_approved": r.random() < 0.6,
    }


def _gloves(r: Random) -> dict:
    return {"coating": r.choice(("nitrile", "polyurethane")), "en388": r.choice(("4131X", "4X42C", "4X43D")),
            "touchscreen": r.random() < 0.5}  # fmt: skip


def _glasses(r: Random) -> dict:
    return {"standard": "EN 166", "anti_fog": r.random() < 0.7, "uv_protection": "UV400"}


def _hearing(r: Random) -> dict:
    return {"type": r.choice(("earmuffs", "earplugs")), "snr_db": r.choice((27, 31, 33, 37))}


def _lubricant(r: Random) -> dict:
    return {
        "base": r.choice(("mineral oil", "synthetic", "PTFE", "silicone")),
        "temp_min_c": r.choice((-40, -30, -20)),
        "temp_max_c": r.choice((120, 180, 250)),
        "flammable": True,
    }


ADHESIVE_CURE_MIN = {"cyanoacrylate": (1, 2), "epoxy": (5, 30), "polyurethane construction": (240, 720)}


def _adhesive(r: Random) -> dict:
    kind = r.choice(tuple(ADHESIVE_CURE_MIN))
    return {
        "type": kind,
        "cure_time_min": r.choice(ADHESIVE_CURE_MIN[kind]),
        "shear_strength_mpa": r.choice((12, 18, 25, 30)),
    }


def _laser(r: Random) -> dict:
    return {"range_m": r.choice((30, 50, 80, 120)), "accuracy_mm": r.choice((1.0, 1.5, 2.0)),
            "ip_rating": r.choice(("IP54", "IP65")), "bluetooth": r.random() < 0.5}  # fmt: skip


def _level(r: Random) -> dict:
    return {"material": "aluminium", "accuracy_mm_per_m": r.choice((0.3, 0.5)), "vials": r.choice((2, 3))}


def _battery(r: Random) -> dict:
    return {"voltage_v": 18, "chemistry": "Li-ion", "charge_indicator": True, "cells": r.choice((5, 10, 15))}


CATEGORIES: tuple[CategoryDef, ...] = (
    CategoryDef("power-tools", "Power tools", "Elektrowerkzeuge"),
    CategoryDef("cordless-drills", "Cordless drills", "Akku-Bohrschrauber", parent="power-tools", code="DRL",
                products=70, noun=("Cordless Drill Driver", "Akku-Bohrschrauber"),
                brands=("Ferrox", "Stahlmann", "Torvik", "Boltwerk Pro"), series=("BS", "DX", "Force", "Pro-Line"),
                spec=("{voltage_v} V, {torque_nm} Nm", "{voltage_v} V, {torque_nm} Nm"),
                pitch=("This {voltage_v} V drill driver delivers {torque_nm} Nm of torque, has a {chuck_mm} mm keyless "
                       "chuck and runs at up to {speed_rpm} rpm; {weight_kg} kg without battery.",
                       "Ein {voltage_v}-V-Bohrschrauber mit {torque_nm} Nm Drehmoment, "
                       "{chuck_mm}-mm-Schnellspannbohrfutter und bis zu {speed_rpm} U/min; {weight_kg} kg ohne Akku."),
                notes=NOTES, price=(89, 449), margin=(0.2, 0.34), compliance=always(BATTERIES), attributes=_drill,
                axes=(BATTERY_AH,)),
    CategoryDef("impact-drivers", "Impact drivers", "Akku-Schlagschrauber", parent="power-tools", code="IMP",
                products=35, noun=("Impact Driver", "Schlagschrauber"), brands=("Ferrox", "Torvik", "Boltwerk Pro"),
                series=("ID", "Impact", "Torque-X"), spec=("{torque_nm} Nm", "{torque_nm} Nm"),
                pitch=("An 18 V impact driver delivering {torque_nm} Nm at {impact_rate_bpm} impacts per minute.",
                       "Ein 18-V-Schlagschrauber mit {torque_nm} Nm und {impact_rate_bpm} Schlägen pro Minute."),
                notes=NOTES, price=(99, 399), margin=(0.2, 0.34), compliance=always(BATTERIES), attributes=_impact,
                axes=(BATTERY_AH,)),
    CategoryDef("angle-grinders", "Angle grinders", "Winkelschleifer", parent="power-tools", code="GRD", products=35,
                noun=("Angle Grinder", "Winkelschleifer"), brands=("Ferrox", "Stahlmann", "Kaltwerk"),
                series=("WS", "Grind", "Cut-Master"), spec=("{power_w} W", "{power_w} W"),
                pitch=("A {power_w} W angle grinder running at up to {speed_rpm} rpm on an {spindle} spindle.",
                       "Ein Winkelschleifer mit {power_w} W und bis zu {speed_rpm} U/min, Spindel {spindle}."),
                notes=(("Kickback stop: {kickback_stop}.", "Rückschlagabschaltung: {kickback_stop}."), *NOTES[1:]),
                price=(69, 329), margin=(0.22, 0.36), attributes=_grinder,
                axes=(Axis("disc_mm", (115, 125, 150, 230), 0.15, pick=2),)),
    CategoryDef("circular-saws", "Circular saws", "Handkreissägen", parent="power-tools", code="SAW", products=25,
                noun=("Circular Saw", "Handkreissäge"), brands=("Stahlmann", "Kaltwerk"), series=("HKS", "Rip"),
                spec=("{blade_mm} mm", "{blade_mm} mm"),
                pitch=("A {power_w} W circular saw with a {blade_mm} mm blade, cutting {cut_depth_mm} mm deep at 90°.",
                       "Eine Handkreissäge mit {power_w} W und {blade_mm}-mm-Sägeblatt, Schnitttiefe {cut_depth_mm} mm "
                       "bei 90°."),
                notes=NOTES[1:], price=(119, 499), margin=(0.2, 0.32), attributes=_saw),
    CategoryDef("tool-batteries", "Batteries & chargers", "Akkus & Ladegeräte", parent="power-tools", code="BAT",
                products=25, noun=("Battery Pack", "Akkupack"), brands=("Ferrox", "Torvik", "Boltwerk Pro"),
                series=("Li-Power", "Endure"), title="{brand} {series} {noun} 18 V",
                pitch=("An 18 V {chemistry} battery with {cells} cells and a charge indicator. Shipped as "
                       "dangerous goods (UN 3480) by road only.",
                       "Ein 18-V-{chemistry}-Akku mit {cells} Zellen und Ladezustandsanzeige. Versand als Gefahrgut "
                       "(UN 3480) nur auf dem Landweg."),
                price=(49, 219), margin=(0.25, 0.4), compliance=always(BATTERIES), attributes=_battery,
                axes=(BATTERY_AH,)),
    CategoryDef("hand-tools", "Hand tools", "Handwerkzeuge"),
    CategoryDef("wrenches", "Spanners & wrenches", "Schraubenschlüssel", parent="hand-tools", code="WRN", products=35,
                noun=("Combination Spanner", "Ringmaulschlüssel"), brands=("Stahlmann", "Gripwell"),
                series=("CV", "Ratchet-Pro"), title="{brand} {series} {noun}",
                pitch=("Forged {material} to {standard}, {finish} finish.",
                       "Geschmiedet aus Chrom-Vanadium-Stahl nach {standard}."),
                price=(6, 39), margin=(0.35, 0.5), stock_mean=120, attributes=_wrench,
                axes=(Axis("size_mm", (8, 10, 13, 17, 19, 22, 24), 0.12, pick=4),)),
    CategoryDef("screwdriver-sets", "Screwdriver sets", "Schraubendreher-Sätze", parent="hand-tools", code="SCD",
                products=25, noun=("Screwdriver Set", "Schraubendreher-Satz"), brands=("Gripwell", "Stahlmann"),
                series=("Ergo", "VDE-Line"), spec=("{pieces} pcs", "{pieces}-teilig"),
                pitch=("{pieces} screwdrivers ({tips}) with two-component grips; VDE-insulated to 1000 V: {vde_1000v}.",
                       "{pieces} Schraubendreher (Schlitz, PH, PZ, Torx) mit Zweikomponentengriff; VDE-isoliert bis "
                       "1000 V: {vde_1000v}."),
                price=(19, 119), margin=(0.35, 0.5), stock_mean=60, attributes=_screwdrivers),
    CategoryDef("pliers", "Pliers", "Zangen", parent="hand-tools", code="PLR", products=25,
                noun=("Pliers", ""), brands=("Gripwell", "Kaltwerk"), series=("Grip", "Cut"),
                title="{brand} {series} {type} {noun}, {spec}", spec=("{length_mm} mm", "{length_mm} mm"),
                pitch=("{type} pliers, {length_mm} mm long.", "{type}, {length_mm} mm lang."),
                price=(9, 59), margin=(0.35, 0.5), stock_mean=80, attributes=_pliers),
    CategoryDef("fasteners", "Fasteners", "Befestigungstechnik"),
    CategoryDef("screws", "Screws", "Schrauben", parent="fasteners", code="SCW", products=65,
                noun=("Chipboard Screws", "Spanplattenschrauben"), brands=("Ferrox", "Boltwerk Pro"),
                series=("TX-Fix", "Wood-Star"), title="{brand} {series} {noun}, {spec}",
                spec=("{material}, {head}, {drive}", "{material}, {head}, {drive}"),
                pitch=("{head} chipboard screws in {material} with a {drive} drive.",
                       "Spanplattenschrauben mit {head} aus {material}, Antrieb {drive}."),
                notes=CONSUMABLE_NOTES, price=(4, 29), margin=(0.4, 0.6), stock_mean=400, attributes=_screws,
                axes=(Axis("size", ("3.5 x 30 mm", "4 x 40 mm", "5 x 60 mm", "6 x 80 mm"), 0.3, pick=3),
                      Axis("pack_qty", (100, 500), 3.0))),
    CategoryDef("anchors", "Wall plugs & anchors", "Dübel & Anker", parent="fasteners", code="ANC", products=45,
                noun=("Anchor", "Dübel"), brands=("Ferrox", "Kaltwerk"), series=("Fix", "Heavy"),
                title="{brand} {series} {noun}, {spec}", spec=("{type}, {material}", "{type}, {material}"),
                pitch=("{type} anchors in {material} rated for {load_kn} kN; ETA approved: {eta_approved}.",
                       "{type} aus {material} für {load_kn} kN Last; mit ETA-Zulassung: {eta_approved}."),
                notes=CONSUMABLE_NOTES, price=(5, 49), margin=(0.4, 0.6), stock_mean=300, attributes=_anchors,
                axes=(Axis("size", ("M8", "M10", "M12"), 0.25), Axis("pack_qty", (25, 100), 2.5))),
    CategoryDef("safety-ppe", "Safety & PPE", "Arbeitsschutz"),
    CategoryDef("safety-gloves", "Safety gloves", "Schutzhandschuhe", parent="safety-ppe", code="GLV", products=40,
                noun=("Work Gloves", "Arbeitshandschuhe"), brands=("Safeguard", "Gripwell"), series=("Cut", "Flex"),
                title="{brand} {series} {noun}, {spec}", spec=("EN 388 {en388}", "EN 388 {en388}"),
                pitch=("{coating}-coated gloves rated EN 388 {en388}; touchscreen-compatible: {touchscreen}.",
                       "Handschuhe mit {coating}-Beschichtung, EN 388 {en388}; touchscreenfähig: {touchscreen}."),
                notes=CONSUMABLE_NOTES, price=(3, 19), margin=(0.4, 0.55), stock_mean=200, attributes=_gloves,
                axes=(Axis("glove_size", (7, 8, 9, 10, 11), pick=4),)),
    CategoryDef("safety-glasses", "Safety glasses", "Schutzbrillen", parent="safety-ppe", code="EYE", products=20,
                noun=("Safety Glasses", "Schutzbrille"), brands=("Safeguard",), series=("Vision", "Clear-Pro"),
                title="{brand} {series} {noun}", pitch=("Safety glasses to {standard} with {uv_protection} lenses.",
                                                        "Schutzbrille nach {standard} mit {uv_protection}-Gläsern."),
                price=(5, 35), margin=(0.4, 0.55), stock_mean=150, attributes=_glasses,
                axes=(Axis("lens", ("clear", "grey", "yellow")),)),
    CategoryDef("hearing-protection", "Hearing protection", "Gehörschutz", parent="safety-ppe", code="EAR",
                products=15, noun=("Hearing Protection", "Gehörschutz"), brands=("Safeguard",), series=("Silence",),
                spec=("SNR {snr_db} dB", "SNR {snr_db} dB"),
                pitch=("{type} with a noise reduction of SNR {snr_db} dB.", "{type} mit Dämmwert SNR {snr_db} dB."),
                price=(4, 49), margin=(0.4, 0.55), stock_mean=150, attributes=_hearing),
    CategoryDef("chemicals", "Workshop chemicals", "Chemisch-technische Produkte"),
    CategoryDef("lubricants", "Lubricants & sprays", "Schmierstoffe & Sprays", parent="chemicals", code="LUB",
                products=25, noun=("Lubricant Spray", "Schmierspray"), brands=("Lubrion", "Kaltwerk"),
                series=("Multi", "High-Temp", "Chain"), title="{brand} {series} {noun}, {spec}",
                spec=("{base}", "{base}"),
                pitch=("A {base} lubricant for {temp_min_c} to {temp_max_c} °C. Extremely flammable aerosol: keep away "
                       "from heat and sparks.",
                       "Schmierstoff ({base}) für {temp_min_c} bis {temp_max_c} °C. Extrem entzündbares "
                       "Aerosol: von Hitze und Funken fernhalten."),
                price=(6, 39), margin=(0.35, 0.5), stock_mean=90, compliance=always(HAZARDOUS), attributes=_lubricant,
                axes=(Axis("volume_ml", (400, 5000), 6.0),)),
    CategoryDef("adhesives", "Adhesives", "Klebstoffe", parent="chemicals", code="ADH", products=20,
                noun=("Adhesive", "Klebstoff"), brands=("Lubrion", "Ferrox"), series=("Bond", "Fix-It"),
                title="{brand} {series} {noun}, {spec}", spec=("{type}", "{type}"),
                pitch=("{type} adhesive curing in {cure_time_min} min to {shear_strength_mpa} MPa shear strength.",
                       "Klebstoff ({type}), härtet in {cure_time_min} min auf {shear_strength_mpa} MPa "
                       "Scherfestigkeit."),
                price=(5, 45), margin=(0.35, 0.5), stock_mean=80, compliance=always(HAZARDOUS), attributes=_adhesive,
                axes=(Axis("volume_ml", (20, 50, 310), 1.0),)),
    CategoryDef("measuring", "Measuring tools", "Messwerkzeuge"),
    CategoryDef("laser-meters", "Laser distance meters", "Laser-Entfernungsmesser", parent="measuring", code="LDM",
                products=20, noun=("Laser Distance Meter", "Laser-Entfernungsmesser"), brands=("Messtec", "Torvik"),
                series=("Range", "Distance"), spec=("{range_m} m", "{range_m} m"),
                pitch=("Measures up to {range_m} m to ±{accuracy_mm} mm, {ip_rating}; runs on two AAA batteries "
                       "(included).",
                       "Misst bis {range_m} m auf ±{accuracy_mm} mm genau, {ip_rating}; mit zwei AAA-Batterien "
                       "(im Lieferumfang)."),
                price=(39, 299), margin=(0.25, 0.4), compliance=always(BATTERIES), attributes=_laser),
    CategoryDef("spirit-levels", "Spirit levels", "Wasserwaagen", parent="measuring", code="LVL", products=20,
                noun=("Spirit Level", "Wasserwaage"), brands=("Messtec", "Stahlmann"), series=("Line", "Plumb"),
                title="{brand} {series} {noun}",
                pitch=("An {material} box-section level with {vials} vials, accurate to {accuracy_mm_per_m} mm/m.",
                       "Eine Wasserwaage aus {material} mit {vials} Libellen, Genauigkeit {accuracy_mm_per_m} mm/m."),
                price=(12, 89), margin=(0.35, 0.5), stock_mean=60, attributes=_level,
                axes=(Axis("length_mm", (400, 600, 1000, 2000), 0.3, pick=3),)),
)  # fmt: skip
