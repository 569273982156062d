"""The store: the engine and sessions (`engine`), the typed models (`models`), the Alembic
migrations (`migrations/`), the meta row with the policy version (`meta`) and the site's
inventory brought in line with the site file (`inventory`)."""
