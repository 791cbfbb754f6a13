"""Offline verification of Sealflow evidence packages (SPEC §9)."""
