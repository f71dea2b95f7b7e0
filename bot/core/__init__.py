"""The platform-neutral core: parse -> validate -> submit -> reply text. Imports no chat library."""
