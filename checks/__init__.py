"""Model checks: one module per question computing evidence from the real models (imports torch lazily)."""
