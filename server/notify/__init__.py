"""What members are told, in Polish and English (`notifications`)."""
