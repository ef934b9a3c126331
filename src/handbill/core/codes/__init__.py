"""Code sets: services (CPT/HCPCS), ICD-10-CM, modifiers, places of service, CARC/RARC."""
