"""Contracts shared by every Sealflow service. Contracts only grow: add fields, never change meaning."""
