"""French labels of the codes of video-protection."""

from __future__ import annotations

KIND_LABELS = {"fixe": "Fixe", "dome": "Dôme / PTZ", "lapi": "Lecture de plaques (LAPI)"}
AUTHORITY_LABELS = {
    "police_nationale": "Police nationale",
    "gendarmerie": "Gendarmerie",
    "parquet_juge": "Parquet / juge",
    "douanes": "Douanes",
    "police_municipale": "Police municipale",
}
CATEGORY_LABELS = {
    "atteintes_personnes": "Atteintes aux personnes",
    "vols_violents": "Vols avec violence",
    "cambriolages": "Cambriolages",
    "vols_vehicules": "Vols de ou dans les véhicules",
    "vols_simples": "Vols simples",
    "degradations": "Destructions et dégradations",
    "stupefiants": "Stupéfiants",
    "circulation": "Accidents et délits routiers",
    "autres": "Autres infractions",
}
USABLE_LABELS = {"oui": "Oui", "non": "Non", "inconnu": "Inconnu"}
ACTION_LABELS = {"consultation": "Consultation", "extraction": "Extraction", "remise": "Remise des images"}
# What a person may type for each code (imports, forms): the code, its label, usual abbreviations.
AUTHORITY_WORDS = {
    "police_nationale": ("police nationale", "pn", "commissariat", "dipn", "csp"),
    "gendarmerie": ("gendarmerie", "gn", "gendarmerie nationale", "brigade"),
    "parquet_juge": (
        "parquet",
        "juge",
        "parquet / juge",
        "parquet juge",
        "procureur",
        "juge d'instruction",
        "tj",
    ),
    "douanes": ("douanes", "douane"),
    "police_municipale": ("police municipale", "pm"),
}
