"""The explorer (`plmodel explore`): a local web page of one scenario, its plan and its capacity.

`scenario` turns the page's choices into a Scenario and into the command lines that print the same figures;
`views` computes what the page shows with plmodel's API; `charts` draws it; `app` is the Streamlit page,
the only module that needs the `explore` extra (imported inside its functions).
"""
