"""desktop_crm: a desktop CRM with a caller pop-up and German-aware number matching."""

__version__ = "0.1.0"
