"""Postventa Empresas: intake bot for Comteco's business after-sales desk."""
