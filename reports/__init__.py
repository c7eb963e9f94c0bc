"""HTML/Markdown reports rendered from jinja2 templates (autoescaped) in ``reports/templates``."""
