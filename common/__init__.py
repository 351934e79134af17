"""The floor every part stands on: personal-data rules, i18n catalogues, fonts, sd_notify.

It imports nothing of ours (import-linter keeps it so)."""
