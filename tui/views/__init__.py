"""View-model building: market state, feed health and analytics in; frozen view-models (:mod:`records.viewmodels`)
and snapshot figures out.

One module per pane and :mod:`tui.views.registry`, the one table of panes with their feeds. No Textual and no I/O:
may import ``tui.runtime``, ``analytics``, ``records`` and the text formatting in :mod:`widgets.format`.
"""
