"""Campaigns: messages the desk sends on its own initiative (mora, fidelización, técnico
preventivo). Every campaign message goes through `optout.send`, which refuses contacts who asked
not to receive them."""
