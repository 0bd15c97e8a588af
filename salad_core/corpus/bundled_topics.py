"""Hand-written topical content for the bundled corpus (see `bundled.py`, which composes it).

Use: `from salad_core.corpus.bundled_topics import TOPICS`; each value is a `TopicData`.

Why it is shaped this way: every topic owns its own vocabulary (`terms`), standalone facts and
sentence templates, so topics stay lexically far apart (an embedding model + k-means must recover
them), while the shared pools below (people, places, connective sentences) give documents the
connective tissue of real educational prose without leaking topic words across topics.

Conventions the composer relies on:
  * `terms` are noun phrases that read well bare and mid-sentence ("black holes", "the mantle");
    templates only use them as objects, so verb agreement never breaks.
  * `facts` are clauses in mid-sentence form (no capital unless a proper noun, no full stop);
    the composer wraps them in a lead such as "It is worth remembering that {fact}."
  * `{name}` in a template draws from the topic's `pools` or the shared pools; `{name2}` draws a
    different value from the same pool as `{name}`.
  * Facts are meant to be roughly correct; templates never assert a fact about a slot value that
    is false for some member of the pool.
"""

from typing import NamedTuple


class TopicData(NamedTuple):
    terms: tuple[str, ...]
    facts: tuple[str, ...]
    templates: tuple[str, ...]
    pools: dict[str, tuple[str, ...]]


PEOPLE = (
    "Amara Okafor", "Kenji Tanaka", "Elena Ruiz", "Ingrid Lindqvist", "Samuel Mensah",
    "Priya Patel", "Liam O'Brien", "Chen Wei", "Fatima Haddad", "Petra Novak", "Diego Alvarez",
    "Hannah Schmidt", "Kwame Asante", "Sofia Rossi", "Tomasz Kowalski", "Aisha Bello",
    "Mateo Silva", "Yuki Sato", "Grace Mwangi", "Oliver Bennett",
)

PLACES = (
    "Nairobi", "Leeds", "Osaka", "Porto Alegre", "Krakow", "Denver", "Chennai", "Adelaide",
    "Toronto", "Lyon", "Accra", "Valparaiso", "Tallinn", "Manila", "Cork", "Tucson", "Bergen",
    "Glasgow", "Pune", "Wellington",
)

SHARED_POOLS = {"person": PEOPLE, "place": PLACES}

OPENERS = (
    "This short lesson is about {term}.",
    "In this guide we look at {term} and why it matters.",
    "Many people have heard of {term}, but fewer could explain it clearly.",
    "Few subjects reward careful study as much as {term}.",
    "Here is a plain introduction to {term} for readers who are new to the subject.",
    "Anyone starting out should first get to know {term} and {term2}.",
)

# A fact is stated bare about half the time; otherwise it takes one of these leads, each at most
# once per document.
BARE_FACT_LEAD = "{fact}."
FACT_LEADS = (
    "It is worth remembering that {fact}.",
    "Most introductory textbooks point out that {fact}.",
    "A key idea here is that {fact}.",
    "Students are often surprised to learn that {fact}.",
    "One basic fact helps a great deal: {fact}.",
    "As {person} reminds students at the start of each course, {fact}.",
    "Put simply, {fact}.",
    "Remember also that {fact}.",
    "In fact, {fact}.",
)

CONNECTIVES = (
    "Understanding {term} makes the ideas that follow much easier to grasp.",
    "Teachers often use a simple diagram to explain {term} before moving on to {term2}.",
    "A good way to check your understanding is to explain {term} to a friend in your own words.",
    "Many learners keep a short glossary that includes {term} and {term2}.",
    "We will return to {term} later in this unit.",
    "The next section looks more closely at {term}.",
    "In a class of {count} students in {place}, almost everyone had heard of {term}, "
    "but few could give a precise definition.",
    "Questions about {term} are common in end-of-term exams.",
    "None of this is difficult once the vocabulary, especially {term}, becomes familiar.",
    "It helps to think about {term} and {term2} side by side.",
)

CLOSERS = (
    "In short, {term} is well worth the time it takes to learn.",
    "With these basics in place, the next step is to look at {term} in more detail.",
    "Taken together, these ideas give a solid foundation for further study.",
    "Keep these points in mind, and the rest of the topic will make much more sense.",
    "A little regular revision of {term} goes a long way.",
)


ASTRONOMY = TopicData(
    terms=(
        "planetary orbits", "galaxies", "telescopes", "distant stars", "nebulae", "comets",
        "asteroids", "gravity", "light-years", "supernovae", "black holes", "the Solar System",
        "the Moon", "solar eclipses", "constellations", "red giants", "white dwarfs",
        "exoplanets", "the Milky Way", "starlight spectra", "meteor showers", "observatories",
        "the Big Bang", "dwarf planets", "the Kuiper Belt", "stellar fusion", "redshift",
        "lunar phases", "planetary rings", "the night sky",
    ),
    facts=(
        "the Sun is a medium-sized star made mostly of hydrogen and helium",
        "light from the Sun takes about eight minutes to reach Earth",
        "Jupiter is the largest planet in the Solar System",
        "a light-year is the distance light travels in one year, roughly 9.5 trillion kilometres",
        "the Moon always shows nearly the same face to Earth because its spin is locked to its orbit",
        "stars shine because nuclear fusion in their cores turns hydrogen into helium",
        "the Milky Way is a barred spiral galaxy containing hundreds of billions of stars",
        "the rings of Saturn are made of countless pieces of ice and rock",
        "a solar eclipse happens when the Moon passes between the Sun and Earth",
        "Pluto was reclassified as a dwarf planet in 2006",
        "comets grow glowing tails when sunlight heats their ice as they approach the Sun",
        "a black hole is a region where gravity is so strong that not even light can escape",
        "astronomers use redshift to measure how fast distant galaxies are moving away from us",
        "most meteors are tiny grains of dust that burn up high above the ground",
        "Venus is the hottest planet because its thick carbon dioxide atmosphere traps heat",
        "the phases of the Moon depend on how much of its sunlit side we can see from Earth",
        "Proxima Centauri, the nearest star to the Sun, is a little over four light-years away",
        "massive stars can end their lives in a supernova explosion",
        "thousands of exoplanets have now been discovered orbiting other stars",
        "the asteroid belt lies between the orbits of Mars and Jupiter",
    ),
    templates=(
        "{planet} is one of the eight planets that orbit the Sun.",
        "Through {instrument}, an observer in {place} can pick out craters on the Moon and, "
        "on a clear night, {bright_planet} as a steady point of light.",
        "Astronomers study {term} and {term2} by carefully measuring the light that reaches us.",
        "The gas giant {gas_giant} has dozens of known moons.",
        "A star's colour tells astronomers about its temperature, with blue stars hotter than red ones.",
        "When {person} set up a telescope for {count} students in {place}, the first target was the Moon.",
        "The study of {term} has changed enormously since Galileo first turned a telescope to the sky.",
        "Gravity keeps {planet} in its orbit around the Sun, just as it keeps the Moon circling Earth.",
        "Every star in the night sky is a distant sun, and many of them have planets of their own.",
        "A constellation is a pattern of stars that people have named, although its stars may lie "
        "at very different distances.",
        "Looking for {term} is best done under dark skies, far from the glow of city lights.",
        "Space probes have visited {planet} and sent back detailed images of its surface or cloud tops.",
        "Modern observatories are often built on high mountains where the air is thin and dry.",
        "The life cycle of a star, from nebula to red giant or supernova, depends mainly on its mass.",
        "Amateur astronomers in {place} often meet on moonless nights to talk about {term} and "
        "to share their telescopes.",
        "A simple star chart and a red torch are all a beginner needs to start exploring the night sky.",
    ),
    pools={
        "planet": ("Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"),
        "bright_planet": ("Venus", "Mars", "Jupiter", "Saturn"),
        "gas_giant": ("Jupiter", "Saturn"),
        "instrument": ("a small refracting telescope", "a pair of binoculars",
                       "a reflecting telescope", "a backyard telescope"),
    },
)

CELL_BIOLOGY = TopicData(
    terms=(
        "living cells", "the cell membrane", "the nucleus", "mitochondria", "ribosomes", "DNA",
        "messenger RNA", "chromosomes", "genes", "protein synthesis", "enzymes", "organelles",
        "the cytoplasm", "the endoplasmic reticulum", "the Golgi apparatus", "chloroplasts",
        "mitosis", "meiosis", "cell division", "bacterial cells", "prokaryotic cells",
        "eukaryotic cells", "lysosomes", "the cell wall", "ATP", "osmosis", "diffusion",
        "stem cells", "light microscopes", "gene expression",
    ),
    facts=(
        "the cell is the smallest unit of life that can carry out all the processes of living things",
        "mitochondria release energy from food by producing ATP through cellular respiration",
        "the nucleus holds most of a eukaryotic cell's DNA, organised into chromosomes",
        "ribosomes build proteins by reading the instructions carried by messenger RNA",
        "the cell membrane is a thin double layer of lipids that controls what enters and leaves the cell",
        "plant cells have a rigid cell wall made of cellulose, while animal cells do not",
        "chloroplasts capture light energy and use it to make sugar during photosynthesis",
        "bacteria are prokaryotes, which means their cells have no nucleus",
        "mitosis produces two daughter cells that are genetically identical to the parent cell",
        "meiosis produces sex cells with half the usual number of chromosomes",
        "enzymes are proteins that speed up chemical reactions inside the cell",
        "DNA is a double helix built from four bases: adenine, thymine, guanine and cytosine",
        "osmosis is the movement of water across a membrane from a dilute solution to a more "
        "concentrated one",
        "lysosomes contain enzymes that break down worn-out parts of the cell",
        "the Golgi apparatus packages proteins and sends them to where they are needed",
        "Robert Hooke first used the word cell in 1665 after looking at thin slices of cork",
        "stem cells can divide and develop into many different specialised cell types",
        "a human body contains tens of trillions of cells",
        "gene expression is the process by which the information in a gene is used to make a protein",
        "the cytoplasm is a jelly-like fluid in which the organelles are suspended",
    ),
    templates=(
        "Under a light microscope, students in {place} stained onion skin cells so that each "
        "nucleus stood out clearly.",
        "A typical biology practical looks at {term} first and then moves on to {term2}.",
        "Biologists compare {term} in plant and animal cells to see how structure relates to function.",
        "A cell must copy its DNA accurately before it divides, or errors called mutations may appear.",
        "Electron microscopes reveal details of {term} far too small to see with a light microscope.",
        "Each organelle has a particular job, much like the departments of a busy factory.",
        "When {person} explained {term} to a class of {count} students, the cell was compared to "
        "a small city with walls, power stations and a library of instructions.",
        "Single-celled organisms such as amoebae and paramecia can be watched moving under a microscope.",
        "The genetic code is read in groups of three bases, each of which specifies an amino acid.",
        "Researchers in {place} study {term} to understand how diseases such as cancer begin.",
        "Building a model cell is a popular way to learn the names and roles of the organelles.",
        "Transport proteins in the membrane act as gates that let particular molecules in and out "
        "of the cell.",
        "Comparing prokaryotic and eukaryotic cells shows how much more internal structure the "
        "eukaryotes have.",
        "Cell biologists grow cultures of {cell_type} in the laboratory to watch {term} as it happens.",
        "Diagrams of {term} usually label the membrane, the nucleus and the surrounding organelles.",
    ),
    pools={
        "cell_type": ("bacteria", "plant cells", "animal cells", "stem cells", "algae"),
    },
)

ANCIENT_HISTORY = TopicData(
    terms=(
        "ancient Egypt", "the pharaohs", "the pyramids", "Mesopotamia", "cuneiform writing",
        "hieroglyphs", "the Roman Republic", "the Roman Empire", "ancient Greece",
        "Athenian democracy", "Sparta", "the Greek city-states", "the Persian Empire",
        "the Bronze Age", "the Iron Age", "archaeological digs", "the Nile valley", "Babylon",
        "the Code of Hammurabi", "the Han dynasty", "the Silk Road", "Alexander the Great",
        "Julius Caesar", "ancient temples", "Roman legions", "papyrus scrolls", "the Phoenicians",
        "the Indus Valley civilisation", "ancient empires", "early writing systems",
    ),
    facts=(
        "the Great Pyramid of Giza was built for the pharaoh Khufu around 2560 BCE",
        "cuneiform, one of the earliest writing systems, was pressed into clay tablets in Mesopotamia",
        "the Code of Hammurabi, carved in Babylon in the eighteenth century BCE, is one of the "
        "oldest surviving collections of laws",
        "Athens developed an early form of democracy in the fifth century BCE",
        "Alexander the Great built an empire stretching from Greece to the borders of India",
        "Julius Caesar was assassinated in Rome on the Ides of March in 44 BCE",
        "the Roman Empire was split into eastern and western halves, and the western half fell in 476 CE",
        "the yearly Nile flood left rich silt along its banks, which made ancient Egypt possible",
        "the Phoenicians developed an alphabet that later influenced the Greek and Latin scripts",
        "the Silk Road linked Han China with the Mediterranean world through a web of trade routes",
        "Spartan boys began military training at the age of seven",
        "hieroglyphs were deciphered in the 1820s with the help of the Rosetta Stone",
        "Cyrus the Great founded the Persian Achaemenid Empire in the sixth century BCE",
        "the cities of the Indus Valley, such as Mohenjo-daro, had planned streets and covered drains",
        "Roman roads, many of them straight and paved, stretched for tens of thousands of miles",
        "the Bronze Age takes its name from the alloy of copper and tin used for tools and weapons",
        "the Roman town of Pompeii was buried by ash from Mount Vesuvius in 79 CE",
        "Egyptian scribes wrote on papyrus, a paper-like material made from reeds",
        "Qin Shi Huang, the first emperor of China, was buried with an army of terracotta warriors",
    ),
    templates=(
        "Historians studying {civ} rely on inscriptions, coins and the ruins of ancient buildings.",
        "A museum exhibition in {place} recently brought together objects from {civ}, including "
        "pottery, jewellery and bronze tools.",
        "Life in {civ} revolved around farming, religion and the power of its rulers.",
        "The rise and fall of empires is a central theme when students compare {term} with {term2}.",
        "Much of what we know about {term} comes from archaeologists who carefully dig, record "
        "and date each layer of a site.",
        "Ancient historians such as Herodotus and Thucydides wrote some of the earliest surviving "
        "accounts of war and politics.",
        "{person} begins every history unit with a timeline, placing {term} and {term2} in order.",
        "Dates in ancient history are usually written as BCE, meaning before the Common Era, or CE.",
        "Trade brought {civ} into contact with distant peoples, spreading goods, ideas and religions.",
        "Temples, palaces and tombs were built to honour gods and kings, and many still stand today.",
        "Written records from {civ} were usually kept by a small class of trained scribes.",
        "Ancient armies fought with spears, swords and bows, and later with iron weapons and chariots.",
        "A coin stamped with the head of an emperor could travel thousands of miles along ancient "
        "trade routes.",
        "A class of {count} pupils in {place} spent a term reading myths and chronicles about {term}.",
        "Ruined cities and royal tombs continue to reshape what scholars believe about {term}.",
    ),
    pools={
        "civ": ("ancient Egypt", "Mesopotamia", "ancient Greece", "ancient Rome",
                "the Indus Valley", "Han China", "the Persian Empire", "Babylon"),
    },
)

COOKING = TopicData(
    terms=(
        "recipes", "baking", "shallow frying", "roasting", "simmering", "braising",
        "oven temperatures", "a heavy frying pan", "fresh herbs", "olive oil", "butter", "flour",
        "bread dough", "yeast", "pastry", "sauces", "seasoning", "salt and pepper", "garlic",
        "onions", "homemade stock", "marinades", "kitchen knives", "chopping boards",
        "vegetables", "spices", "caramelisation", "whisking", "kneading", "food hygiene",
    ),
    facts=(
        "bread rises because yeast ferments sugar and releases carbon dioxide that the dough traps",
        "water boils at 100 degrees Celsius at sea level, but at a lower temperature high in the "
        "mountains",
        "the Maillard reaction gives roasted meat, toasted bread and coffee their brown colour and "
        "rich flavour",
        "salt does more than add saltiness, because it also sharpens and balances other flavours",
        "a sharp knife is safer than a blunt one because it is less likely to slip",
        "kneading develops gluten, the stretchy network of proteins that gives bread its structure",
        "resting meat for a few minutes after cooking lets the juices settle before it is sliced",
        "baking powder makes cakes rise by releasing bubbles of gas when it is heated and moistened",
        "a roux, made by cooking flour in butter, thickens many classic sauces",
        "onions turn sweet when they are cooked slowly because their sugars caramelise",
        "pasta should be cooked in plenty of well-salted boiling water",
        "raw chicken must always be cooked all the way through to kill harmful bacteria",
        "acidic ingredients such as lemon juice and vinegar can brighten the flavour of a dish",
        "chilling pastry before rolling keeps the butter firm and makes the crust flaky",
        "simmering means cooking a liquid just below the boil, with small bubbles gently rising",
        "too hot an oven burns the outside of a cake before the middle is cooked",
        "whisking egg whites traps air and makes them light and foamy",
        "dried herbs are more concentrated than fresh ones, so a smaller amount is usually needed",
    ),
    templates=(
        "To make {dish}, start by gently cooking {ingredient} in a little olive oil.",
        "Many home cooks in {place} finish {dish} with {ingredient} just before serving.",
        "A good recipe lists every ingredient in the order it is used and gives clear cooking times.",
        "Keep your chopping board steady by placing a damp cloth underneath it.",
        "{person} teaches beginners to read the whole recipe before turning on the stove.",
        "A cookery class of {count} students in {place} spent a whole morning practising {term}.",
        "Tasting as you cook is the simplest way to adjust the seasoning.",
        "When preparing {dish}, weigh and chop all the ingredients before you start.",
        "Good cooks master {term} and {term2} long before they attempt complicated dishes.",
        "Leftovers should be cooled quickly, covered and stored in the fridge.",
        "Adding {ingredient} is an easy way to give {dish} more flavour.",
        "Preheat the oven so that it has reached the right temperature when the tray goes in.",
        "Wash your hands, the worktop and your utensils after handling raw meat.",
        "A heavy pan spreads heat evenly, which helps food brown without burning.",
        "A well-stocked kitchen cupboard makes it easy to cook {dish} on a busy weeknight.",
    ),
    pools={
        "dish": ("a tomato sauce", "a vegetable soup", "a simple omelette", "a loaf of bread",
                 "a pot of rice", "a beef stew", "a lemon cake", "a vegetable stir-fry",
                 "a roast chicken", "a batch of pancakes", "a lentil curry", "a mushroom risotto"),
        "ingredient": ("chopped onions", "crushed garlic", "grated cheese", "fresh basil",
                       "a knob of butter", "a pinch of salt", "a squeeze of lemon", "ground cumin",
                       "chopped parsley", "sliced mushrooms", "a spoonful of honey",
                       "freshly ground black pepper"),
    },
)

PERSONAL_FINANCE = TopicData(
    terms=(
        "budgeting", "savings accounts", "compound interest", "credit cards", "credit scores",
        "personal loans", "mortgages", "emergency funds", "monthly income", "household expenses",
        "consumer debt", "interest rates", "inflation", "workplace pensions", "retirement savings",
        "index funds", "diversification", "shares", "government bonds", "insurance policies",
        "income tax", "payslips", "bank statements", "overdrafts", "financial goals", "net worth",
        "monthly bills", "spending habits", "a household budget", "a savings plan",
    ),
    facts=(
        "compound interest means you earn interest on your past interest as well as on your "
        "original savings",
        "an emergency fund covering three to six months of expenses can stop a crisis from turning "
        "into debt",
        "paying only the minimum on a credit card can leave a balance outstanding for years",
        "inflation slowly reduces the purchasing power of money kept in cash",
        "a budget is simply a plan that matches your expected income to your expected spending",
        "diversification spreads money across many investments so that one failure does less damage",
        "a credit score summarises how reliably a person has repaid borrowed money",
        "the annual percentage rate, or APR, shows the yearly cost of borrowing including fees",
        "a mortgage is a long-term loan used to buy property, secured against the home itself",
        "index funds track a whole market and usually charge lower fees than actively managed funds",
        "starting to save for retirement early gives compound growth many more years to work",
        "insurance transfers the risk of a large, unlikely loss to a company in exchange for "
        "regular premiums",
        "the value of investments such as shares can fall as well as rise",
        "many people follow the 50/30/20 rule, splitting income between needs, wants and savings",
        "high-interest debt should usually be paid off before money is put into investments",
        "net worth is the value of everything you own minus everything you owe",
        "a payslip shows gross pay, deductions such as tax, and the net pay that reaches your account",
        "bonds are loans to governments or companies that pay interest over a fixed period",
    ),
    templates=(
        "Setting aside {amount} dollars a month can add up to a useful sum for {goal} within a "
        "few years.",
        "{person} suggests writing down every purchase for one month before trying to build a budget.",
        "A family in {place} saving for {goal} might open a separate savings account so the money "
        "is not spent by accident.",
        "Comparing interest rates across several banks can save a borrower a surprising amount "
        "over the life of a loan.",
        "Financial advisers often discuss {term} and {term2} together because each affects the other.",
        "Automatic transfers on payday make saving a habit rather than a decision made each month.",
        "Before signing any loan agreement, read the terms carefully and check the total amount "
        "to be repaid.",
        "A simple spreadsheet with columns for income, fixed bills and flexible spending is enough "
        "for most household budgets.",
        "Young workers often learn about {term} only when they receive their first payslip.",
        "Impulse spending is easier to control if you wait a day before buying anything non-essential.",
        "Saving for {goal} is easier with a clear target amount and a deadline.",
        "A money skills workshop for {count} adults in {place} began with the basics of {term}.",
        "Checking bank statements every month helps spot mistakes, forgotten subscriptions and fraud.",
        "The earlier a saver understands {term}, the more choices they will have later in life.",
        "Households that track {term} usually find it easier to save for {goal}.",
    ),
    pools={
        "amount": ("50", "100", "150", "200", "250", "300", "500"),
        "goal": ("a deposit on a flat", "a new laptop", "a family holiday", "university fees",
                 "an emergency fund", "a first car", "retirement", "a wedding", "home repairs"),
    },
)

PROGRAMMING = TopicData(
    terms=(
        "variables", "functions", "loops", "conditional statements", "data types", "strings",
        "integers", "lists", "arrays", "dictionaries", "classes", "objects", "algorithms",
        "recursion", "debugging", "compilers", "interpreters", "source code", "syntax errors",
        "unit tests", "version control", "Git repositories", "the command line", "APIs",
        "databases", "pseudocode", "exception handling", "sorting algorithms", "code reviews",
        "software libraries",
    ),
    facts=(
        "a variable is a named place in memory where a program stores a value",
        "a loop repeats a block of code until a condition is no longer true",
        "a function groups a set of instructions under a name so they can be reused",
        "a compiler translates source code into machine code before the program runs",
        "an interpreter runs a program statement by statement without producing a separate "
        "executable file",
        "recursion is when a function solves a problem by calling itself on a smaller version of it",
        "most programming languages count list positions starting from zero",
        "a syntax error means the code breaks the grammar rules of the language",
        "version control systems such as Git record every change made to a project's files",
        "binary search finds an item in a sorted list by repeatedly halving the range to search",
        "unit tests check small pieces of code automatically, so mistakes are caught early",
        "object-oriented programming bundles data and the functions that act on it into classes",
        "an algorithm is a precise, step-by-step procedure for solving a problem",
        "Ada Lovelace wrote what is often called the first computer program in the 1840s",
        "a bug is an error in a program, and debugging is the process of finding and fixing it",
        "an API defines how one piece of software can request services from another",
        "computers store all data, including text and images, as patterns of binary digits",
        "an infinite loop never ends because its stopping condition is never met",
    ),
    templates=(
        "In {language}, a beginner's first program usually prints a short greeting to the screen.",
        "Learning {language} is easier if you write a small program every day.",
        "{person} encourages new programmers to read error messages slowly, because they usually "
        "point to the line with the problem.",
        "A coding club of {count} students in {place} spent its first term on {term} and {term2}.",
        "Good variable names make code easier to read, both for others and for your future self.",
        "Writing pseudocode first helps a programmer plan the logic before worrying about syntax.",
        "Experienced developers still look up the documentation for {term} when they switch languages.",
        "Breaking a large problem into small functions makes a program easier to test and debug.",
        "Comments in code should explain why something is done, not repeat what the code says.",
        "A classic exercise is to write a loop that adds up all the numbers in a list.",
        "When a program crashes, printing the values of key variables is a simple first step in "
        "debugging.",
        "Most {language} courses introduce {term} in the first few weeks.",
        "Pair programming, where two people share one keyboard, is a good way to learn {term}.",
        "Committing work regularly means an earlier version of the code can always be restored.",
        "Software teams in {place} often review each other's code before it is merged.",
    ),
    pools={
        "language": ("Python", "JavaScript", "Java", "C", "Rust", "Go", "Ruby", "Kotlin"),
    },
)

MUSIC_THEORY = TopicData(
    terms=(
        "musical scales", "major keys", "minor keys", "chords", "intervals", "harmony", "melody",
        "rhythm", "tempo", "time signatures", "the circle of fifths", "key signatures",
        "sharps and flats", "the treble clef", "the bass clef", "triads", "chord progressions",
        "cadences", "dynamics", "staff notation", "octaves", "semitones", "arpeggios",
        "syncopation", "counterpoint", "musical modes", "bar lines", "crotchets and quavers",
        "the metronome", "sight-reading",
    ),
    facts=(
        "a major scale follows the pattern tone, tone, semitone, tone, tone, tone, semitone",
        "the top note of an octave vibrates twice as fast as the bottom note",
        "a triad is a chord built from three notes stacked in thirds",
        "the time signature four-four means there are four crotchet beats in each bar",
        "C major has no sharps or flats in its key signature",
        "every major key has a relative minor that shares the same key signature",
        "the circle of fifths arranges the keys so that neighbours differ by only one sharp or flat",
        "a perfect cadence, moving from chord five to chord one, makes a phrase sound finished",
        "syncopation places accents on beats that are normally weak",
        "tempo markings such as allegro and adagio tell players how fast to perform a piece",
        "dynamic markings such as piano and forte tell the performer how softly or loudly to play",
        "a semitone is the smallest interval in most Western music",
        "the treble clef is also called the G clef because it curls around the line for G",
        "counterpoint combines two or more independent melodies that sound good together",
        "the twelve-bar blues is built on the first, fourth and fifth chords of a key",
        "a dotted note lasts one and a half times as long as the same note without the dot",
        "A minor is the relative minor of C major",
    ),
    templates=(
        "A student practising {instrument} might begin each session with a scale in {key}.",
        "Many popular songs in {key} use only three or four chords.",
        "{person} asks pupils to clap the rhythm of a melody before playing it on {instrument}.",
        "Learning {term} helps musicians understand why some melodies sound bright and others sad.",
        "A choir of {count} singers in {place} spent a rehearsal working on {term} and {term2}.",
        "Following the printed music while listening to a recording is a good way to learn {term}.",
        "Playing {instrument} well requires both technical practice and a feel for phrasing.",
        "Composers build tension by moving away from the home chord and release it by returning.",
        "A metronome helps players keep a steady beat when practising difficult passages.",
        "When a piece modulates from {key} to a new key, the change of mood can be striking.",
        "Music theory exams often ask candidates to identify {term} by ear.",
        "Writing out a simple melody on the stave is a good test of how well you know note values.",
        "The same chord can sound bright on {instrument} and mellow on another instrument.",
        "Jazz musicians build improvised solos on a solid knowledge of scales and chord progressions.",
        "A songwriting workshop in {place} showed how {term} can lift a simple tune in {key}.",
    ),
    pools={
        "key": ("C major", "G major", "D major", "F major", "A minor", "E minor", "B flat major"),
        "instrument": ("the piano", "the guitar", "the violin", "the flute", "the cello",
                       "the trumpet", "the clarinet", "the ukulele"),
    },
)

WEATHER_CLIMATE = TopicData(
    terms=(
        "the atmosphere", "air pressure", "humidity", "cloud formation", "rainfall",
        "thunderstorms", "hurricanes", "weather fronts", "cold fronts", "the water cycle",
        "evaporation", "condensation", "precipitation", "the jet stream", "weather forecasts",
        "climate zones", "the greenhouse effect", "global warming", "carbon dioxide emissions",
        "sea breezes", "wind speed", "frost and fog", "monsoons", "droughts", "heatwaves", "snowfall",
        "storm clouds", "temperature records", "wind patterns", "climate change",
    ),
    facts=(
        "weather describes conditions over hours or days, while climate describes the average "
        "pattern over decades",
        "warm air rises and cools, and as it cools its water vapour condenses into clouds",
        "the greenhouse effect keeps Earth warm by trapping some of the heat radiated from the surface",
        "falling air pressure often signals that unsettled, rainy weather is on the way",
        "hurricanes form over warm tropical oceans and weaken once they move over land",
        "the jet stream is a fast, narrow band of wind high in the atmosphere that steers storms",
        "lightning heats the air so quickly that it expands violently, producing thunder",
        "a cold front usually brings a band of heavy showers followed by cooler, clearer air",
        "the water cycle moves water between the oceans, the air and the land through evaporation, "
        "condensation and precipitation",
        "cirrus clouds are thin and wispy and form high in the sky where the air is very cold",
        "the monsoon is a seasonal shift in winds that brings heavy summer rain to South Asia",
        "meteorologists launch weather balloons twice a day to measure conditions high above the "
        "ground",
        "sea breezes blow inland on sunny days because land warms up faster than water",
        "average global temperatures have risen by more than one degree Celsius since the late "
        "nineteenth century",
        "humidity is a measure of how much water vapour the air contains",
        "a barometer measures air pressure, which forecasters watch closely",
        "snow forms when water vapour freezes directly into ice crystals inside cold clouds",
    ),
    templates=(
        "Looking up on a bright morning in {place}, you might spot {cloud} clouds and guess what "
        "the weather will do next.",
        "Forecasters combine satellite images, radar and computer models to keep track of {term}.",
        "{person} keeps a daily weather diary, recording temperature, rainfall and wind direction.",
        "A school weather station in {place} lets {count} pupils measure rainfall and air pressure "
        "every morning.",
        "Climate scientists study {term} and {term2} to understand how the planet is changing.",
        "A rain gauge is simply a container that collects and measures the rain falling in one spot.",
        "Forecasts are most reliable for the next few days and become less certain further ahead.",
        "Storm warnings give people time to tie down loose objects and stay indoors.",
        "Wind is air moving from areas of high pressure towards areas of low pressure.",
        "Research on {term} relies on careful measurements from thousands of weather stations "
        "around the world.",
        "Satellite images show swirling cloud patterns that reveal {term} from space.",
        "Understanding {term} helps communities prepare for floods, droughts and heatwaves.",
        "A sudden drop in temperature and a shift in wind direction often mark the passing of a front.",
        "Weather presenters in {place} explain {term} with maps of isobars and rain radar.",
        "A thermometer kept in the shade gives a far more accurate air temperature than one in "
        "direct sunlight.",
    ),
    pools={
        "cloud": ("cumulus", "stratus", "cirrus", "cumulonimbus", "altocumulus", "cirrostratus"),
    },
)

FOOTBALL = TopicData(
    terms=(
        "football", "goalkeeping", "defending", "midfield play", "strikers", "the offside rule",
        "penalty kicks", "free kicks", "corner kicks", "refereeing", "yellow cards", "red cards",
        "the penalty area", "team tactics", "formations", "passing drills", "dribbling",
        "the league table", "shooting technique", "training sessions", "match fitness", "set pieces",
        "ball control", "substitutions", "counter-attacks", "heading the ball", "positional play",
        "one-touch passing", "high pressing", "the team captain",
    ),
    facts=(
        "a football team has eleven players on the pitch, including one goalkeeper",
        "a professional match lasts ninety minutes, split into two halves of forty-five minutes",
        "a player in the opponents' half is offside if they are closer to the goal line than both "
        "the ball and the second-last defender when a teammate passes to them",
        "two yellow cards in one match lead to a red card and a sending-off",
        "the goalkeeper is the only player allowed to handle the ball, and only inside their own "
        "penalty area",
        "a penalty kick is taken from a spot eleven metres from the goal line",
        "the men's World Cup has been held every four years since 1930, apart from during the "
        "Second World War",
        "a goal counts only when the whole ball has crossed the goal line between the posts and "
        "under the crossbar",
        "league teams usually earn three points for a win and one point for a draw",
        "a corner kick is awarded when the defending side last touches the ball before it crosses "
        "their own goal line",
        "the Football Association in England first wrote down the modern rules of the game in 1863",
        "a throw-in must be taken with both hands and with both feet on the ground",
        "a knockout match that ends level may go to extra time and then a penalty shoot-out",
    ),
    templates=(
        "In a {formation} formation, the coach balances defensive cover with attacking width.",
        "A young {position} at a club in {place} spent the pre-season working on {term}.",
        "{person}, who coaches a youth team, starts every training session with passing drills "
        "and a short warm-up.",
        "Good communication between the goalkeeper and the defenders prevents many easy goals.",
        "Supporters in {place} packed the stadium to watch the local club play its biggest match "
        "of the season.",
        "Coaches study video of past matches to analyse {term} and {term2}.",
        "A {position} needs sharp awareness of where teammates and opponents are at all times.",
        "Fitness coaches plan sprints, stretching and rest days so players stay sharp for match day.",
        "A squad of {count} players must be ready for injuries, suspensions and a crowded fixture list.",
        "Many matches are decided by set pieces, so teams rehearse corners and free kicks carefully.",
        "Switching from a {formation} to a more attacking shape late in a match can change the result.",
        "The referee's assistants on each touchline help with offside decisions and throw-ins.",
        "Young players learn {term} best through small-sided games with plenty of touches of the ball.",
        "The manager's half-time team talk in the dressing room often focuses on {term}.",
    ),
    pools={
        "formation": ("4-4-2", "4-3-3", "3-5-2", "4-2-3-1", "5-3-2"),
        "position": ("goalkeeper", "centre-back", "full-back", "midfielder", "winger", "striker"),
    },
)

ANATOMY_MEDICINE = TopicData(
    terms=(
        "the heart", "the lungs", "the skeleton", "bones", "joints", "muscles", "tendons",
        "ligaments", "the liver", "the kidneys", "the stomach", "the small intestine", "the brain",
        "the spinal cord", "nerves", "arteries", "veins", "blood pressure", "the immune system",
        "vaccines", "antibodies", "the digestive system", "the circulatory system",
        "the respiratory system", "hormones", "the skin", "medical diagnosis", "hospital doctors",
        "nursing care", "X-ray images",
    ),
    facts=(
        "the adult human skeleton has 206 bones",
        "the heart pumps blood through arteries to every part of the body, and veins carry it back",
        "the skin is the largest organ of the human body",
        "the kidneys filter the blood and remove waste in the form of urine",
        "the femur, or thigh bone, is the longest bone in the body",
        "haemoglobin in the blood carries oxygen from the lungs to the rest of the body",
        "the small intestine is where most nutrients from food are absorbed into the blood",
        "tendons connect muscles to bones, while ligaments connect bones to other bones",
        "a resting adult heart usually beats between sixty and one hundred times a minute",
        "vaccines train the immune system to recognise a germ without causing the disease",
        "the liver processes nutrients, stores energy and breaks down many drugs and toxins",
        "the brain and spinal cord together make up the central nervous system",
        "blood pressure is given as two numbers, the pressure when the heart beats and when it "
        "rests between beats",
        "oxygen passes into the blood through millions of tiny air sacs in the lungs called alveoli",
        "insulin, a hormone made by the pancreas, helps control the level of sugar in the blood",
        "muscles can only pull, so they work in pairs that move a joint in opposite directions",
        "Wilhelm Roentgen discovered X-rays in 1895, transforming medical diagnosis",
    ),
    templates=(
        "Medical students in {place} learn exactly how {organ} works long before they meet their "
        "first patients.",
        "{person}, a family doctor, reminds patients that regular exercise strengthens both the "
        "heart and the bones.",
        "A physician examining a patient with chest pain will check blood pressure, pulse and "
        "breathing.",
        "Anatomy lessons often use models and diagrams to show how {term} and {term2} fit together.",
        "Nurses on a busy hospital ward in {place} may check the vital signs of {count} patients "
        "in a single shift.",
        "Disease of {organ} can affect many other systems of the body.",
        "An X-ray shows bones clearly because they absorb more radiation than the soft tissue "
        "around them.",
        "Good sleep, a balanced diet and regular exercise help keep {term} healthy.",
        "Medical imaging such as MRI and ultrasound lets doctors see inside the body without surgery.",
        "Washing hands properly is one of the simplest ways to stop infections spreading in hospitals.",
        "A broken bone heals as new bone tissue gradually bridges the gap, usually over several weeks.",
        "First-aid courses teach people how to check breathing and give chest compressions in an "
        "emergency.",
        "Students of medicine spend years learning about {term} before they choose a specialty.",
        "A surgeon operating on {organ} relies on a detailed knowledge of the nearby blood vessels "
        "and nerves.",
    ),
    pools={
        "organ": ("the heart", "the liver", "the lungs", "the kidneys", "the brain", "the stomach",
                  "the pancreas"),
    },
)

GEOLOGY = TopicData(
    terms=(
        "rock formations", "minerals", "igneous rocks", "sedimentary rocks", "metamorphic rocks",
        "the rock cycle", "plate tectonics", "tectonic plates", "earthquakes", "volcanoes", "magma",
        "lava flows", "fossils", "erosion", "weathering", "the Earth's crust", "the mantle",
        "the Earth's core", "fault lines", "mountain building", "sandstone", "granite", "limestone",
        "basalt", "crystal structures", "geologic time", "seismic waves", "seismographs",
        "glacial valleys", "rock strata",
    ),
    facts=(
        "igneous rocks form when molten magma or lava cools and hardens",
        "sedimentary rocks such as sandstone and limestone build up in layers over millions of years",
        "metamorphic rocks form when heat and pressure change existing rocks without melting them",
        "marble is a metamorphic rock formed from limestone",
        "the Earth's outer shell is broken into tectonic plates that move a few centimetres each year",
        "most earthquakes happen along the boundaries between tectonic plates",
        "the Himalayas were pushed up by the collision of the Indian and Eurasian plates",
        "granite forms when magma cools slowly deep underground, giving it large crystals",
        "basalt forms when lava cools quickly at the surface, so its crystals are tiny",
        "fossils are most often found in sedimentary rocks",
        "the Earth is about 4.5 billion years old",
        "the Mohs scale ranks minerals by hardness, from talc at one to diamond at ten",
        "weathering breaks rocks down where they lie, while erosion carries the fragments away",
        "the mantle is a thick layer of hot, slowly flowing rock between the crust and the core",
        "the Earth's core is made mostly of iron and nickel",
        "seismographs record the shaking of earthquakes as wavy lines on a chart",
        "the Grand Canyon exposes nearly two billion years of rock layers carved by the Colorado River",
        "quartz is one of the most common minerals in the Earth's crust",
    ),
    templates=(
        "On a field trip, {count} geology students from {place} collected samples of {rock} and "
        "recorded where each one was found.",
        "A hand lens helps a geologist see the grains and crystals in a piece of {rock}.",
        "{person} tells first-year students that every rock has a story, and reading it starts "
        "with {term}.",
        "Geologists study {term} and {term2} to work out how a landscape formed.",
        "Layers of rock, called strata, are usually older at the bottom and younger at the top.",
        "Scratching a mineral against glass or a steel nail is a quick field test of its hardness.",
        "Volcanologists monitor gas emissions and small tremors to warn of coming eruptions.",
        "Rivers, glaciers and wind shape the land by wearing rock away and depositing sediment "
        "elsewhere.",
        "Museums display {rock} beside other rock specimens so that visitors can compare textures "
        "and colours.",
        "Geological maps use colours to show which rocks lie at the surface across a region.",
        "The slow movement of tectonic plates explains {term} better than any earlier theory.",
        "A rock collection labelled with the name, type and location of each sample is a great "
        "project for beginners.",
        "Cores drilled from deep underground reveal rock layers that cannot be seen at the surface.",
        "A university museum in {place} holds a large collection of {rock} and fossil specimens.",
    ),
    pools={
        "rock": ("granite", "basalt", "sandstone", "limestone", "marble", "slate", "shale",
                 "obsidian", "gneiss", "pumice"),
    },
)

CHEMISTRY = TopicData(
    terms=(
        "atoms", "molecules", "chemical elements", "compounds", "the periodic table",
        "chemical reactions", "chemical bonds", "ionic bonds", "covalent bonds", "electrons",
        "protons", "neutrons", "acids", "alkalis", "the pH scale", "catalysts", "oxidation",
        "solutions", "solvents", "mixtures", "the mole", "chemical equations", "isotopes",
        "noble gases", "metals", "alkali metals", "titration", "precipitates", "reaction rates",
        "the conservation of mass",
    ),
    facts=(
        "atoms are made of protons, neutrons and electrons",
        "the periodic table arranges the elements in order of increasing atomic number",
        "Dmitri Mendeleev published an early version of the periodic table in 1869",
        "each molecule of water is made of two hydrogen atoms bonded to one oxygen atom",
        "acids have a pH below seven, alkalis have a pH above seven, and pure water is neutral at seven",
        "a catalyst speeds up a chemical reaction without being used up itself",
        "in a chemical reaction, atoms are rearranged but never created or destroyed",
        "ionic bonds form when electrons are transferred from one atom to another",
        "covalent bonds form when atoms share pairs of electrons",
        "the noble gases, such as helium and neon, are very unreactive because their outer "
        "electron shells are full",
        "isotopes of an element have the same number of protons but different numbers of neutrons",
        "sodium chloride forms when sodium reacts with chlorine",
        "rusting is a slow oxidation reaction in which iron combines with oxygen and water",
        "alkali metals such as sodium and potassium react vigorously with water",
        "one mole of any substance contains about six times ten to the twenty-third particles",
        "raising the temperature usually speeds up a reaction because particles collide more "
        "often and with more energy",
        "when an acid reacts with an alkali, the products are a salt and water",
    ),
    templates=(
        "The element {element} has its own chemical symbol and a fixed place in the periodic table.",
        "In a school laboratory in {place}, {count} students timed how quickly magnesium ribbon "
        "reacted with dilute acid.",
        "{person} insists that safety goggles are worn before any chemicals are opened.",
        "Chemists study {term} and {term2} to predict how substances will behave.",
        "Balancing a chemical equation makes sure the same number of each kind of atom appears on "
        "both sides.",
        "A titration measures exactly how much acid is needed to neutralise an alkali.",
        "Litmus paper turns red in acid and blue in alkali.",
        "Atoms of {element} combine with other elements to form many familiar compounds.",
        "Understanding {term} explains why some reactions give out heat while others take it in.",
        "Heating a solution evaporates the solvent and leaves crystals of the dissolved solid behind.",
        "Chemical formulas show which atoms a molecule contains and in what ratio.",
        "Every experiment should be written up with a method, results and a conclusion about {term}.",
        "A Bunsen burner flame turns from yellow to blue when the air hole is opened.",
        "Industrial chemists in {place} use {term} to make fertilisers, plastics and medicines.",
    ),
    pools={
        "element": ("hydrogen", "oxygen", "carbon", "nitrogen", "sodium", "chlorine", "iron",
                    "copper", "magnesium", "sulfur", "calcium"),
    },
)

LAW_GOVERNMENT = TopicData(
    terms=(
        "the constitution", "parliament", "the legislature", "the executive branch", "the judiciary",
        "courts of law", "judges", "juries", "elections", "voting rights", "political parties",
        "the separation of powers", "checks and balances", "new legislation", "parliamentary bills",
        "human rights", "civil law", "criminal law", "contract law", "legal precedent",
        "the rule of law", "local councils", "the head of state", "democracy", "citizenship",
        "appeal courts", "lawyers", "the presumption of innocence", "public policy", "referendums",
    ),
    facts=(
        "the rule of law means that everyone, including the government, must obey the law",
        "many democracies divide power between the legislature, the executive and the judiciary",
        "a bill usually becomes law only after the legislature has debated and approved it",
        "the presumption of innocence means that a defendant is treated as innocent until proven "
        "guilty",
        "criminal law deals with offences against society, while civil law settles disputes "
        "between individuals or organisations",
        "a contract is a legally binding agreement between two or more parties",
        "in common-law systems, judges follow precedents set by earlier decisions of higher courts",
        "the United States Constitution was signed in 1787 and is among the oldest written "
        "constitutions still in use",
        "Magna Carta, agreed in England in 1215, limited the power of the king",
        "the Universal Declaration of Human Rights was adopted by the United Nations in 1948",
        "in a parliamentary system, the head of government usually leads the largest party in "
        "parliament",
        "a referendum lets voters decide a single question directly",
        "juries are made up of ordinary citizens who decide questions of fact in a trial",
        "an appeal asks a higher court to review the decision of a lower one",
        "a federal system shares power between a national government and regional governments",
        "the secret ballot protects voters from pressure by letting them choose in private",
    ),
    templates=(
        "A visit to {institution} in {place} gave {count} students a chance to learn about {term} "
        "first-hand.",
        "{person}, a lawyer who volunteers at a legal advice centre, explains contracts in plain "
        "language.",
        "Citizenship classes introduce {term} and {term2} so that young people understand how "
        "decisions are made.",
        "Courts interpret the law, but they cannot simply invent new laws whenever they wish.",
        "Before an election, candidates publish manifestos setting out the policies they would pursue.",
        "A judge must remain impartial and decide each case on the evidence and the law.",
        "Debates about {term} often turn on how to balance individual freedom with the public good.",
        "Local councils are responsible for services such as libraries, parks and waste collection.",
        "Anyone signing a lease or an employment contract should read it carefully and ask about "
        "unclear terms.",
        "Law students learn to read judgments closely, paying attention to the reasoning as well "
        "as the result.",
        "Open courts and a free press help hold those who exercise power to account.",
        "A mock trial is a good way for students to learn about {term}.",
        "Voters in {place} elected a new council after a campaign focused on housing and transport.",
        "Constitutional scholars argue about how {term} should limit {institution}.",
    ),
    pools={
        "institution": ("a national parliament", "a supreme court", "a city council",
                        "an election commission", "a county court", "a regional assembly"),
    },
)

AGRICULTURE = TopicData(
    terms=(
        "arable crops", "soil fertility", "irrigation", "crop rotation", "fertilisers", "livestock",
        "dairy farming", "sheep farming", "poultry", "wheat fields", "maize", "rice paddies",
        "harvest time", "ploughing", "seed drills", "tractors", "greenhouses", "pesticides",
        "organic farming", "cover crops", "composting", "grazing land", "farm buildings",
        "orchards", "pollination", "soil erosion", "grain silos", "farming cooperatives",
        "hedgerows", "farm machinery",
    ),
    facts=(
        "crop rotation helps keep soil healthy and reduces the build-up of pests and diseases",
        "legumes such as beans, peas and clover add nitrogen to the soil through bacteria in "
        "their root nodules",
        "farming began around ten thousand years ago in the Fertile Crescent of the Middle East",
        "irrigation brings water to crops in dry regions through channels, sprinklers or drip lines",
        "bees and other insects pollinate many fruit and vegetable crops",
        "cover crops protect bare soil from erosion between main harvests",
        "wheat, rice and maize together supply a large share of the calories people eat worldwide",
        "dairy cows must give birth before they start producing milk",
        "compost returns organic matter to the soil and improves its structure",
        "the Green Revolution of the mid-twentieth century greatly increased grain yields",
        "too much fertiliser can wash into rivers and harm wildlife",
        "sheep are usually sheared once a year, in late spring or early summer",
        "rice is often grown in flooded fields called paddies",
        "grazing animals must be moved between fields so that the grass has time to recover",
        "healthy farm soil is a mixture of mineral particles, organic matter, air and water",
        "greenhouses let farmers grow crops outside their normal season by trapping warmth",
    ),
    templates=(
        "A farmer near {place} planted {crop} on the upper fields this year and kept {animal} on "
        "the lower pasture.",
        "Before sowing {grain}, the field is ploughed and harrowed to produce a fine seedbed.",
        "{person}, who runs a mixed farm, tests the soil of every field before deciding which crop "
        "to plant.",
        "Agricultural students study {term} and {term2} alongside the business side of farming.",
        "Keeping {animal} healthy takes clean water, good feed, shelter and regular visits from a vet.",
        "A tractor pulling a seed drill can sow a large field of {grain} in a single day.",
        "Harvest time is the busiest part of the farming year, with long days spent bringing in "
        "{crop}.",
        "Farmers around {place} formed a cooperative to share expensive machinery and sell their "
        "produce together.",
        "Good yields depend on {term} as much as on the weather.",
        "A smallholding with {count} {animal} can be run by a single family.",
        "Soil tests measure acidity and nutrients so that fertiliser is spread only where it is needed.",
        "Hedgerows around fields shelter wildlife and reduce wind damage to crops.",
        "Visitors to a working farm can learn how {term} affects the food that reaches the shops.",
        "Farm advisers encourage growers of {crop} to think carefully about {term}.",
    ),
    pools={
        "crop": ("wheat", "barley", "maize", "potatoes", "soybeans", "oats", "sugar beet",
                 "oilseed rape"),
        "grain": ("wheat", "barley", "oats", "maize", "soybeans"),
        "animal": ("dairy cows", "sheep", "goats", "pigs", "laying hens", "beef cattle"),
    },
)

# Order matters: it is the order of BUNDLED_TOPICS and of the balanced topic assignment.
TOPICS: dict[str, TopicData] = {
    "astronomy": ASTRONOMY,
    "cell_biology": CELL_BIOLOGY,
    "ancient_history": ANCIENT_HISTORY,
    "cooking": COOKING,
    "personal_finance": PERSONAL_FINANCE,
    "computer_programming": PROGRAMMING,
    "music_theory": MUSIC_THEORY,
    "weather_climate": WEATHER_CLIMATE,
    "football": FOOTBALL,
    "anatomy_medicine": ANATOMY_MEDICINE,
    "geology": GEOLOGY,
    "chemistry": CHEMISTRY,
    "law_government": LAW_GOVERNMENT,
    "agriculture": AGRICULTURE,
}
