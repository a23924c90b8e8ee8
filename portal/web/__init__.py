"""Flask wiring shared by the views: extensions, forms, security, error pages and template helpers."""
