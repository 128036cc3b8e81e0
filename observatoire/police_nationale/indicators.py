"""Catalogues of the police nationale statistics: SSMSI indicators, état 4001 index, diagnostic groupings.

One place names every indicator with a stable id. Labels differ between SSMSI editions (the 2024+
editions renamed and split several indicators); the ids do not. Where a definition changed (the 2023
"coups et blessures volontaires intrafamiliaux" and the 2024+ "violences physiques intrafamiliales"
do not count the same facts) the ids differ too, so that no series silently joins two definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from observatoire.errors import NotFound
from observatoire.text import normalise_header

INHABITANTS = "habitants"
DWELLINGS = "logements"


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    unit: str  # what one count is: victime, infraction, véhicule, mis en cause…
    denominator: str  # INHABITANTS or DWELLINGS
    sensitive: bool = False  # intra-family and sexual violence: never shown as points (BRIEF §6)
    other_labels: tuple[str, ...] = ()
    nomenclature: str = "toutes"  # "2023", "2024" (18 indicators of the 2024+ editions) or both
    # The definition in force per nomenclature, when it changed under the same name (a series break).
    definitions: tuple[tuple[str, str], ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.other_labels)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("cbv", "Coups et blessures volontaires", "victime", INHABITANTS, nomenclature="2023"),
    Indicator(
        "cbv_intrafamiliaux",
        "Coups et blessures volontaires intrafamiliaux",
        "victime",
        INHABITANTS,
        sensitive=True,
        nomenclature="2023",
    ),
    Indicator(
        "cbv_autres", "Autres coups et blessures volontaires", "victime", INHABITANTS, nomenclature="2023"
    ),
    Indicator(
        "violences_physiques_intrafamiliales",
        "Violences physiques intrafamiliales",
        "victime",
        INHABITANTS,
        sensitive=True,
        nomenclature="2024",
    ),
    Indicator(
        "violences_physiques_hors_famille",
        "Violences physiques hors cadre familial",
        "victime",
        INHABITANTS,
        nomenclature="2024",
    ),
    Indicator(
        "violences_sexuelles",
        "Violences sexuelles",
        "victime",
        INHABITANTS,
        sensitive=True,
        definitions=(
            (
                "2023",
                "éditions 2023 et antérieures : victimes de violences sexuelles enregistrées, selon la "
                "nomenclature de ces éditions",
            ),
            (
                "2024",
                "éditions 2024 et suivantes : nouvelle nomenclature du SSMSI ; pour les mêmes années, "
                "26 à 38 % de victimes de plus que l'édition 2023 (les autres indicateurs communs varient "
                "d'au plus 3,5 %) : le périmètre compté n'est plus le même, les deux séries ne se "
                "prolongent pas",
            ),
        ),
    ),
    Indicator("homicides", "Homicides", "victime", INHABITANTS, nomenclature="2024"),
    Indicator("tentatives_homicide", "Tentatives d'homicide", "victime", INHABITANTS, nomenclature="2024"),
    Indicator("vols_avec_armes", "Vols avec armes", "infraction", INHABITANTS),
    Indicator("vols_violents_sans_arme", "Vols violents sans arme", "infraction", INHABITANTS),
    Indicator(
        "vols_sans_violence_personnes",
        "Vols sans violence contre des personnes",
        "victime entendue",
        INHABITANTS,
    ),
    Indicator("cambriolages_logement", "Cambriolages de logement", "infraction", DWELLINGS),
    Indicator(
        "vols_vehicules", "Vols de véhicules", "véhicule", INHABITANTS, other_labels=("Vols de véhicule",)
    ),
    Indicator("vols_dans_vehicules", "Vols dans les véhicules", "véhicule", INHABITANTS),
    Indicator("vols_accessoires_vehicules", "Vols d'accessoires sur véhicules", "véhicule", INHABITANTS),
    Indicator(
        "destructions_degradations", "Destructions et dégradations volontaires", "infraction", INHABITANTS
    ),
    Indicator(
        "escroqueries",
        "Escroqueries et fraudes aux moyens de paiement",
        "victime",
        INHABITANTS,
        nomenclature="2024",
    ),
    Indicator("trafic_stupefiants", "Trafic de stupéfiants", "mis en cause", INHABITANTS),
    Indicator("usage_stupefiants", "Usage de stupéfiants", "mis en cause", INHABITANTS),
    Indicator(
        "usage_stupefiants_afd",
        "Usage de stupéfiants (AFD)",
        "mis en cause",
        INHABITANTS,
        nomenclature="2024",
    ),
    Indicator(
        "usage_stupefiants_hors_afd",
        "Usage de stupéfiants (hors AFD)",
        "mis en cause",
        INHABITANTS,
        nomenclature="2024",
    ),
)

BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
_BY_LABEL: dict[str, Indicator] = {normalise_header(lbl): i for i in INDICATORS for lbl in i.labels}

# The rate tables of the diagnostic (BRIEF §5), in its order; the 2024+ editions name them differently.
DIAGNOSTIC_INDICATORS = (
    "cbv",
    "violences_physiques_hors_famille",
    "violences_sexuelles",
    "cambriolages_logement",
    "vols_vehicules",
    "vols_dans_vehicules",
    "destructions_degradations",
)


def by_label(label: str) -> Indicator | None:
    """The indicator a file's label names (case, accents and punctuation ignored), or None."""
    return _BY_LABEL.get(normalise_header(label))


def resolve(id_or_label: str) -> Indicator:
    """An indicator from its id or any of its labels; NotFound lists the known ids."""
    key = id_or_label.strip()
    found = BY_ID.get(key) or BY_ID.get(key.lower()) or by_label(key)
    if found is None:
        raise NotFound(
            f"Indicateur inconnu : « {id_or_label} ». Indicateurs connus : "
            + ", ".join(f"{i.id} ({i.label})" for i in INDICATORS)
        )
    return found


# --- État 4001 -------------------------------------------------------------------------------------------
# The 107 index of the état 4001 (offences recorded by police and gendarmerie), labels as published by the
# Ministry of the Interior in its monthly tables (obvious typos of those tables corrected).
ETAT4001_LABELS: dict[int, str] = dict(
    enumerate(
        (
            "Règlements de compte entre malfaiteurs",
            "Homicides pour voler et à l'occasion de vols",
            "Homicides pour d'autres motifs",
            "Tentatives d'homicides pour voler et à l'occasion de vols",
            "Tentatives homicides pour d'autres motifs",
            "Coups et blessures volontaires suivis de mort",
            "Autres coups et blessures volontaires criminels ou correctionnels",
            "Prises d'otages à l'occasion de vols",
            "Prises d'otages dans un autre but",
            "Séquestrations",
            "Menaces ou chantages pour extorsion de fonds",
            "Menaces ou chantages dans un autre but",
            "Atteintes à la dignité et à la personnalité",
            "Violations de domicile",
            "Vols à main armée contre des établissements financiers",
            "Vols à main armée contre des établissements industriels ou commerciaux",
            "Vols à main armée contre des entreprises de transports de fonds",
            "Vols à main armée contre des particuliers à leur domicile",
            "Autres vols à main armée",
            "Vols avec armes blanches contre des établissements financiers, commerciaux ou industriels",
            "Vols avec armes blanches contre des particuliers à leur domicile",
            "Autres vols avec armes blanches",
            "Vols violents sans arme contre des établissements financiers, commerciaux ou industriels",
            "Vols violents sans arme contre des particuliers à leur domicile",
            "Vols violents sans arme contre des femmes sur voie publique ou autre lieu public",
            "Vols violents sans arme contre d'autres victimes",
            "Cambriolages de locaux d'habitations principales",
            "Cambriolages de résidences secondaires",
            "Cambriolages de locaux industriels, commerciaux ou financiers",
            "Cambriolages d'autres lieux",
            "Vols avec entrée par ruse en tous lieux",
            "Vols à la tire",
            "Vols à l'étalage",
            "Vols de véhicules de transport avec fret",
            "Vols d'automobiles",
            "Vols de véhicules motorisés à 2 roues",
            "Vols à la roulotte",
            "Vols d'accessoires sur véhicules à moteur immatriculés",
            "Vols simples sur chantier",
            "Vols simples sur exploitations agricoles",
            "Autres vols simples contre des établissements publics ou privés",
            "Autres vols simples contre des particuliers dans des locaux privés",
            "Autres vols simples contre des particuliers dans des locaux ou lieux publics",
            "Recels",
            "Proxénétisme",
            "Viols sur des majeur(e)s",
            "Viols sur des mineur(e)s",
            "Harcèlements sexuels et autres agressions sexuelles contre des majeur(e)s",
            "Harcèlements sexuels et autres agressions sexuelles contre des mineur(e)s",
            "Atteintes sexuelles",
            "Homicides commis contre enfants de moins de 15 ans",
            "Violences, mauvais traitements et abandons d'enfants",
            "Délits au sujet de la garde des mineurs",
            "Non versement de pension alimentaire",
            "Trafic et revente sans usage de stupéfiants",
            "Usage-revente de stupéfiants",
            "Usage de stupéfiants",
            "Autres infractions à la législation sur les stupéfiants",
            "Délits de débits de boissons et infractions à la réglementation sur l'alcool et le tabac",
            "Fraudes alimentaires et infractions à l'hygiène",
            "Autres délits contre la santé publique et la réglementation des professions médicales",
            "Incendies volontaires de biens publics",
            "Incendies volontaires de biens privés",
            "Attentats à l'explosif contre des biens publics",
            "Attentats à l'explosif contre des biens privés",
            "Autres destructions et dégradations de biens publics",
            "Autres destructions et dégradations de biens privés",
            "Destructions et dégradations de véhicules privés",
            "Infractions aux conditions générales d'entrée et de séjour des étrangers",
            "Aide à l'entrée, à la circulation et au séjour des étrangers",
            "Autres infractions à la police des étrangers",
            "Outrages à dépositaires de l'autorité",
            "Violences à dépositaires de l'autorité",
            "Port ou détention d'armes prohibées",
            "Atteintes aux intérêts fondamentaux de la Nation",
            "Délits des courses et des jeux",
            "Délits d'interdiction de séjour et de paraître",
            "Destructions, cruautés et autres délits envers les animaux",
            "Atteintes à l'environnement",
            "Chasse et pêche",
            "Faux documents d'identité",
            "Faux documents concernant la circulation des véhicules",
            "Autres faux documents administratifs",
            "Faux en écriture publique et authentique",
            "Autres faux en écriture",
            "Fausse monnaie",
            "Contrefaçons et fraudes industrielles et commerciales",
            "Contrefaçons littéraires et artistiques",
            "Falsifications et usages de chèques volés",
            "Falsifications et usages de cartes de crédit",
            "Escroqueries et abus de confiance",
            "Infractions à la législation sur les chèques",
            "Travail clandestin",
            "Emploi d'étranger sans titre de travail",
            "Marchandage - prêt de main d'œuvre",
            "Index non utilisé",
            "Index non utilisé",
            "Banqueroutes, abus de biens sociaux et autres délits de société",
            "Index non utilisé",
            "Index non utilisé",
            "Prix illicites, publicité fausse et infractions aux règles de la concurrence",
            "Achats et ventes sans factures",
            "Infractions à l'exercice d'une profession réglementée",
            "Infractions au droit de l'urbanisme et de la construction",
            "Fraudes fiscales",
            "Autres délits économiques et financiers",
            "Autres délits",
        ),
        start=1,
    )
)

UNUSED_INDEXES = frozenset(n for n, label in ETAT4001_LABELS.items() if label == "Index non utilisé")

_ONDRP = (
    "ONDRP (Observatoire national de la délinquance et des réponses pénales), définition des atteintes "
    "volontaires à l'intégrité physique et des atteintes aux biens à partir des index de l'état 4001"
)
_SAINT_ALBAN = (
    "grille de l'Observatoire de la délinquance de Saint-Alban (GIP Ressources & Territoires, juin 2024), "
    "../shared/data/examples/observatoire_delinquance_saint_alban_juin2024_tableau.csv"
)
_CHOICE = "choix documenté de l'observatoire (à confirmer avec la DDSP)"


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    indexes: tuple[int, ...]
    source: str
    parent: str | None = None  # "dont" lines: a part of the parent category, not added to the total


@dataclass(frozen=True)
class Grouping:
    id: str
    label: str
    categories: tuple[Category, ...]
    note: str = ""

    def total_indexes(self) -> tuple[int, ...]:
        return tuple(sorted({n for c in self.categories if c.parent is None for n in c.indexes}))


def _r(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


GROUPINGS: dict[str, Grouping] = {
    "avip": Grouping(
        "avip",
        "Atteintes volontaires à l'intégrité physique",
        (
            Category(
                "violences_non_crapuleuses",
                "Violences physiques non crapuleuses",
                (1, 3, 5, 6, 7, 51, 52, 73),
                _ONDRP,
            ),
            Category(
                "coups_blessures_volontaires",
                "dont coups et blessures volontaires",
                (7,),
                _SAINT_ALBAN + " ; index 7",
                parent="violences_non_crapuleuses",
            ),
            Category("violences_crapuleuses", "Violences physiques crapuleuses", (2, 4, *_r(15, 26)), _ONDRP),
            Category("violences_sexuelles", "Violences sexuelles", _r(46, 49), _ONDRP),
            Category(
                "menaces_violences",
                "Menaces de violences",
                (11, 12),
                _ONDRP + " ; index 11 et 12 aussi dans " + _SAINT_ALBAN,
            ),
        ),
        note="Les vols avec violence (index 15 à 26) comptent à la fois dans les violences crapuleuses et dans "
        "les atteintes aux biens, comme dans la définition de l'ONDRP.",
    ),
    "biens": Grouping(
        "biens",
        "Atteintes aux biens",
        (
            Category("vols_avec_violence", "Vols avec violence", _r(15, 26), _ONDRP),
            Category(
                "vols_automobile",
                "Vols liés à l'automobile",
                _r(34, 38),
                _ONDRP + " ; index 35 à 38 aussi dans " + _SAINT_ALBAN,
            ),
            Category("cambriolages", "Cambriolages", _r(27, 30), _ONDRP),
            Category(
                "cambriolages_logements",
                "dont cambriolages de logements",
                (27, 28),
                _SAINT_ALBAN,
                parent="cambriolages",
            ),
            Category(
                "vols_simples_particuliers",
                "Vols simples contre des particuliers",
                (31, 32, 42, 43),
                _ONDRP + " ; rattachement de l'index 31 (entrée par ruse) : " + _CHOICE,
            ),
            Category(
                "vols_simples_autres", "Vols simples contre d'autres victimes", (33, 39, 40, 41), _ONDRP
            ),
            Category("destructions_degradations", "Destructions et dégradations", _r(62, 68), _ONDRP),
        ),
    ),
}


def grouping(grouping_id: str) -> Grouping:
    try:
        return GROUPINGS[grouping_id.strip().lower()]
    except KeyError:
        raise NotFound(
            f"Regroupement inconnu : « {grouping_id} ». Regroupements possibles : "
            + ", ".join(f"{g.id} ({g.label})" for g in GROUPINGS.values())
        ) from None
