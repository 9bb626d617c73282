"""The printed questionnaire, from the same definitions as the web form.

:mod:`.plan` numbers the questions and prints the skip logic (skips and banners),
:mod:`.pen` draws what each item type asks for (``ItemKind.paper``), :mod:`.cover` the cover
and back page, :mod:`.layout` the page geometry and box map, :mod:`.render` the booklets.
"""
