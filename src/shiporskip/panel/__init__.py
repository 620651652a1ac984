"""The critic panel: critics as data, prompts, fencing of maker text, and the run itself."""
