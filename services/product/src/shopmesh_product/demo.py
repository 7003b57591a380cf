"""The demo catalog seeded into an empty database when `seed_demo_catalog` is on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoProduct:
    id: str
    display_name: str
    category: str
    price_cents: int
    quantity: int
    description: str


DEMO_CATALOG: tuple[DemoProduct, ...] = (
    # coffee
    DemoProduct("espresso-cup", "Espresso Cup", "coffee", 1250, 120,
                "Double-walled porcelain cup for a 60 ml espresso, keeps the crema warm."),
    DemoProduct("pour-over-dripper", "Pour-Over Dripper", "coffee", 2400, 60,
                "Ceramic cone dripper for one to two cups; fits size 02 paper filters."),
    DemoProduct("burr-grinder", "Hand Burr Grinder", "coffee", 8900, 25,
                "Stainless steel conical burrs, 40 click settings from espresso to French press."),
    DemoProduct("gooseneck-kettle", "Gooseneck Kettle", "coffee", 5500, 40,
                "0.9 l stovetop kettle with a slim spout for a steady pour."),
    DemoProduct("coffee-beans-ethiopia", "Ethiopia Yirgacheffe Beans, 250 g", "coffee", 1490, 200,
                "Washed light roast with notes of jasmine, bergamot and lemon."),
    # kitchen
    DemoProduct("chef-knife", "Chef's Knife, 20 cm", "kitchen", 7900, 30,
                "Forged high-carbon stainless steel blade with a full tang and walnut handle."),
    DemoProduct("cast-iron-skillet", "Cast Iron Skillet, 26 cm", "kitchen", 4500, 50,
                "Pre-seasoned skillet that goes from stovetop to oven to campfire."),
    DemoProduct("cutting-board", "End-Grain Cutting Board", "kitchen", 6200, 35,
                "Oiled maple board, 40 x 30 cm, gentle on knife edges."),
    DemoProduct("linen-apron", "Linen Apron", "kitchen", 3200, 80,
                "Stone-washed linen apron with two front pockets and adjustable straps."),
    DemoProduct("spice-jars", "Glass Spice Jars, Set of 6", "kitchen", 1800, 150,
                "100 ml jars with bamboo lids and blank labels."),
    # home
    DemoProduct("wool-throw", "Merino Wool Throw", "home", 11900, 20,
                "Soft 130 x 180 cm throw woven from undyed merino wool."),
    DemoProduct("ceramic-vase", "Stoneware Vase", "home", 3900, 45,
                "Hand-thrown vase with a matte speckled glaze, 22 cm tall."),
    DemoProduct("soy-candle", "Cedar & Moss Soy Candle", "home", 2200, 140,
                "Hand-poured soy wax candle, about 45 hours of burn time."),
    DemoProduct("linen-cushion", "Linen Cushion Cover", "home", 2900, 90,
                "45 x 45 cm cover with a hidden zip, washable at 40 degrees."),
    DemoProduct("desk-lamp", "Brass Desk Lamp", "home", 9800, 25,
                "Adjustable arm lamp with a warm 2700 K LED bulb included."),
    # stationery
    DemoProduct("dot-grid-notebook", "Dot Grid Notebook, A5", "stationery", 1650, 180,
                "192 numbered pages of 100 g/m2 paper that takes fountain pen ink."),
    DemoProduct("fountain-pen", "Fountain Pen, Medium Nib", "stationery", 3500, 60,
                "Aluminium body with a steel medium nib and a converter for bottled ink."),
    DemoProduct("ink-bottle", "Blue-Black Ink, 50 ml", "stationery", 1200, 100,
                "Water-resistant iron-gall ink that darkens as it dries."),
    DemoProduct("brass-ruler", "Brass Ruler, 15 cm", "stationery", 1400, 75,
                "Solid brass ruler with etched metric markings."),
    # outdoor
    DemoProduct("insulated-bottle", "Insulated Bottle, 750 ml", "outdoor", 2900, 160,
                "Keeps drinks cold for 24 hours or hot for 12; leak-proof lid."),
    DemoProduct("camp-mug", "Enamel Camp Mug", "outdoor", 1550, 130,
                "Lightweight enamel-coated steel mug, 350 ml, safe over a camp stove."),
    DemoProduct("picnic-blanket", "Waterproof Picnic Blanket", "outdoor", 4200, 55,
                "Wool top with a waterproof backing, folds into a carry strap."),
    DemoProduct("trail-daypack", "Trail Daypack, 20 l", "outdoor", 6900, 40,
                "Recycled nylon pack with a padded back panel and a bottle pocket."),
    DemoProduct("headlamp", "Rechargeable Headlamp", "outdoor", 3800, 70,
                "300 lumen headlamp with red light mode and USB-C charging."),
)  # fmt: skip
