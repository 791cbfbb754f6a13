"""Offline verification of Sealflow evidence packages."""
