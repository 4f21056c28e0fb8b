"""``python -m rules`` prints the default ``rules:`` block (docs/rules-config.yaml)."""

from __future__ import annotations

from rules import render_rules_config_yaml

print(render_rules_config_yaml(), end="")
