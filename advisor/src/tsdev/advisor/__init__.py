"""Finding-to-patch-to-pull-request advisor will live here."""
