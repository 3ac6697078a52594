"""Reference data: ESCO / O*NET loaders, the skills taxonomy, the SOC -> skills map, canonical skills."""
