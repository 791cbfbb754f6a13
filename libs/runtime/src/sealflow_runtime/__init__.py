"""The runtime every Sealflow service shares. One helper for each concern, used by all five services."""
