"""The records every layer speaks: typed market records, the frame schemas, and the widgets' view-models.

The leaf of the house. Sources parse provider answers into these records, analytics compute over them, the view
layer fills the view-models and widgets draw them. Imports nothing of this project (numpy and pandas only), so
any layer may import it and it never imports a layer.
"""
