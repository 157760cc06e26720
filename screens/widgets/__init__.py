"""Small reusable widgets of the wizard."""
