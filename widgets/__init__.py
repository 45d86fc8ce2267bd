"""Textual widgets that draw view-models. No I/O and no market rules: they only render what they are given."""
