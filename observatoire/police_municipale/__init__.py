"""Police municipale: interventions, their nomenclature, and the activity views."""
