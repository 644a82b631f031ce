"""Users are django.contrib.auth's User and Group; tokens are DRF's authtoken. No models of our own."""
