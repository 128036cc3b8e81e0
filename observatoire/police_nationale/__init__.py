"""Police nationale: SSMSI statistics, état 4001 counts, geolocated facts, rates and comparisons."""
