import numpy as np

from linkage.match.dependence import pair_share
from linkage.match.pipeline import link_table

from .helpers import table_of


def test_pair_share_counts_pairs_agreeing_on_both_tokens_exactly() -> None:
    rows = [
        {"family_name": "Lee", "street_address": "1 Main St"},
        {"family_name": "Lee", "street_address": "1 Main St"},
        {"family_name": "Lee", "street_address": "1 Main St"},
        {"family_name": "Lee", "street_address": "9 Elm Ave"},
        {"family_name": "Wu", "street_address": "1 Main St"},
        {"family_name": "", "street_address": "1 Main St"},
    ]
    share = pair_share(table_of(rows), "family_name.exact", "street_address.exact")
    assert share == 3 / 15  # the three Lees at 1 Main St form 3 of the 15 pairs


def test_household_agreement_is_worth_less_than_the_independent_product() -> None:
    rows = []
    given_names = ["Ann", "Bob", "Cyd", "Dee", "Eli", "Flo", "Gus", "Hal"]
    for house in range(60):  # two people per household, each recorded twice
        for person in range(2):
            given = given_names[(house + person) % 8] + "x" * (house % 5)
            dob = f"19{50 + (house * 7 + person * 13) % 49}-0{1 + person}-{10 + house % 18}"
            family = "Fam" + chr(97 + house % 26) + chr(97 + house // 26)
            for _ in range(2):
                rows.append({"given_name": given, "family_name": family,
                             "street_address": f"{house} Main St", "birth_date": dob})  # fmt: skip
    model = link_table(table_of(rows)).model
    (bits,) = [b for cell, b in model.joint.items() if cell.comparison_b == "address"]
    assert bits < -1.0
    assert np.isfinite(bits)
