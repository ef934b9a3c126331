"""Made-up people and places for the demo practice.

Every name here was put together for Handbill's demo: ordinary first and last names mixed at
random, so no row stands for a real person. Streets are generic tree and mountain names and
the cities are real Washington towns with their ZIP codes, because a claim needs a plausible
address; the house numbers are random. Phone numbers use the 555-01xx block that is reserved
for fiction.
"""

from __future__ import annotations

FEMALE_FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Bea", "Carmen", "Dana", "Elena", "Farah", "Greta", "Hana", "Ines", "Joanna",
    "Keiko", "Lena", "Marisol", "Nadia", "Olive", "Priya", "Quinn", "Rosa", "Sofia", "Talia",
    "Uma", "Vera", "Wren", "Yara", "Zoe", "Amara", "Brynn", "Celeste", "Delia", "Esme",
    "Fiona", "Gemma", "Harper", "Ivy", "June", "Kira", "Lucia", "Mae", "Nora", "Opal",
)

MALE_FIRST_NAMES: tuple[str, ...] = (
    "Aaron", "Bram", "Caleb", "Dmitri", "Emil", "Felix", "Gideon", "Hugo", "Idris", "Jonah",
    "Kenji", "Luis", "Mateo", "Nikhil", "Oscar", "Pavel", "Rafael", "Silas", "Tobias", "Victor",
    "Wesley", "Yusuf", "Abel", "Bennett", "Cyrus", "Declan", "Elliot", "Gus", "Henrik", "Isaac",
)

LAST_NAMES: tuple[str, ...] = (
    "Abernathy", "Baptiste", "Castellano", "Dunmore", "Eriksen", "Fairweather", "Galloway",
    "Halvorsen", "Iwasaki", "Jablonski", "Kowalczyk", "Lindqvist", "Marchetti", "Nakamura",
    "Okonkwo", "Pellegrino", "Quintero", "Rasmussen", "Sandoval", "Thorsen", "Umberger",
    "Vasquez", "Whitcombe", "Yamada", "Zielinski", "Ashdown", "Brightwater", "Corrigan",
    "Delacroix", "Ellingson", "Fenwick", "Grandison", "Holloway", "Ingersoll", "Jorgensen",
    "Kettering", "Lockhart", "Moreau", "Northcott", "Oyelaran", "Prescott", "Redfield",
    "Sorensen", "Tanaka", "Underhill", "Valdivia", "Westbrook", "Yellowhorse", "Achterberg",
    "Birchfield",
)

# Street names only; the builder adds a house number and the suffix.
STREET_NAMES: tuple[str, ...] = (
    "Alder", "Birch", "Cascade", "Douglas Fir", "Elm", "Fernwood", "Glacier", "Huckleberry",
    "Iris", "Juniper", "Kulshan", "Larch", "Madrona", "Nooksack", "Orchard", "Pine Ridge",
    "Quarry", "Rainier View", "Salal", "Tamarack", "Vine Maple", "Willow", "Yew", "Baker View",
)

STREET_SUFFIXES: tuple[str, ...] = ("St", "Ave", "Rd", "Ln", "Way", "Ct", "Dr", "Pl")

# (city, ZIP) in Whatcom and Skagit counties, around the demo clinic.
CITIES: tuple[tuple[str, str], ...] = (
    ("Bellingham", "98225"),
    ("Bellingham", "98226"),
    ("Bellingham", "98229"),
    ("Ferndale", "98248"),
    ("Lynden", "98264"),
    ("Blaine", "98230"),
    ("Everson", "98247"),
    ("Burlington", "98233"),
    ("Mount Vernon", "98273"),
    ("Sedro-Woolley", "98284"),
    ("Anacortes", "98221"),
)

AREA_CODES: tuple[str, ...] = ("360", "360", "360", "206", "425")

# Physicians and nurse practitioners who write the demo's prescriptions and referrals.
REFERRING_PROVIDERS: tuple[str, ...] = (
    "Dr. Helena Marsh, MD",
    "Dr. Osei Lamptey, DO",
    "Ruth Abernethy, ARNP",
    "Dr. Tomasz Wrobel, MD",
    "Dr. Lucinda Ferreira, MD",
)

ADJUSTERS: tuple[str, ...] = (
    "Kelsey Dunaway",
    "Martin Oduya",
    "Phoebe Lanford",
    "Grant Whitsell",
)

EMPLOYERS: tuple[str, ...] = (
    "Baker Bay Seafood Processing",
    "Northwind Lumber Supply",
    "Chuckanut Home Health",
    "Skagit Valley Nursery Co.",
)

# The demo's three therapists: first and last name.
THERAPISTS: tuple[tuple[str, str], ...] = (
    ("Maya", "Ferrante"),
    ("Samir", "Quill"),
    ("Lotte", "Brandvold"),
)
