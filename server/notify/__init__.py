"""What members and staff read: the text catalogue in Polish, English and Ukrainian
(`texts`), and the messages to members (`notifications`)."""
