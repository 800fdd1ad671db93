"""A conversion's `items` (the order's lines, stored as the advertiser sent them): the checks the postback runs on
their known fields, and the lines product-level rates price and item refunds reverse."""

from decimal import Decimal

from core.money import parse_amount

ITEM_TEXT_LENGTH = 128
MAX_ITEM_QUANTITY = 10**6


def item_errors_of(item: dict) -> dict:
    """A conversion item's known fields checked (others are kept as sent): {field: [messages]}."""
    errors = {}
    for name in ("sku", "category"):
        value = item.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > ITEM_TEXT_LENGTH):
            errors[name] = [f"A string of at most {ITEM_TEXT_LENGTH} characters."]
    for name in ("amount", "price"):
        if item.get(name) is None:
            continue
        try:
            if parse_amount(item[name]) < 0:
                errors[name] = ["Must be zero or more."]
        except ValueError:
            errors[name] = ['Enter an amount as a string or integer, e.g. "49.90".']
    for name in ("quantity", "qty"):
        value = item.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_ITEM_QUANTITY):
            errors[name] = [f"A whole number from 1 to {MAX_ITEM_QUANTITY}."]
    return errors


def item_lines(items) -> list[dict] | None:
    """A conversion's items as lines to price: sku, category, quantity (`quantity` or `qty`, default 1) and the
    line's amount (`amount`, the line's total; else `price` × quantity; else 0). None when an item cannot be read
    (rows stored before items were checked): the conversion is then priced as a whole."""
    if not isinstance(items, list):
        return None
    lines = []
    for item in items:
        if not isinstance(item, dict) or item_errors_of(item):  # the postback's own checks
            return None
        quantity = item.get("quantity") or item.get("qty") or 1
        if item.get("amount") is not None:
            amount = parse_amount(item["amount"])
        elif item.get("price") is not None:
            amount = parse_amount(item["price"]) * quantity
        else:
            amount = Decimal(0)
        lines.append({"sku": str(item.get("sku") or ""), "category": str(item.get("category") or ""),
                      "quantity": quantity, "amount": amount})
    return lines
