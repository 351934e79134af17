"""智能导办: the hall's catalogue of matters (事项) and the search that finds them.

``catalogue`` loads and validates ``data/matters.toml`` (the 办事指南 of every matter, the
一件事一次办 bundles, and where to go for what the hall does not do); ``search`` ranks them for
free text, pinyin, initials and typos; ``checklist`` turns a matter and the citizen's answers
to its situation questions into the exact 一次告知 list. Pure: it imports only ``common``, so
the hall (API and pages) and the kiosk both use it.
"""
