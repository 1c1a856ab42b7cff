"""Explanations more than one page gives, word for word the same on each."""

CONTROLS_EXPLAINED = """
Soft targets help in two ways that are easy to confuse. They carry the teacher's **knowledge**
(this 4 looks a bit like a 9), and they are simply **soft**, which alone can regularise a network
the way *label smoothing* does (Müller, Kornblith & Hinton 2019; Yuan et al. 2020 found part of
distillation's gain can come from that softness alone). Two controls, trained beside the student on
the same images from the same start, pull these apart:

- the **smoothed-label twin** learns from labels softened evenly (the true digit gets most of the
  probability, every other digit the same small share), exactly as soft on average as the teacher
  at this T: label smoothing at T, the teacher-free "virtual teacher" of Yuan et al. (2020), the
  softness without the knowledge;
- the **shuffled-teacher twin** learns from the teacher's own soft targets with the small
  probabilities shuffled among the wrong digits, per image (the permuted dark knowledge of
  Furlanello et al. 2018): same top answer, the teacher's own confidence on each image, but the
  resemblances point at random digits.

If the distilled student beats both, over at least three seeds and by the whole of each paired
interval, its gain is **more than softness alone**. That is what these controls can show; they
do not name which part of the teacher's answers carried the rest.
"""


def equal_exchange_finding(cells: dict, asks: int, images: int) -> tuple[str, str]:
    """The Defences verdict from its own cells (agreement with the teacher, per noise: asked "once",
    "repeat"ed, "shifted" repeats, and as many "new" images): which way of spending the exchanges
    won, said only where the gap is more than a point (one copy per cell)."""
    fresh, fixed = cells["noise"], cells["fixed-noise"]
    clear = 0.01  # one copy per cell: a point or so is within seed-to-seed noise, so only more is called
    spend = (f"With {asks * images:,} exchanges, asking {images:,} images {asks}× each gives {fresh['repeat']:.1%} "
             f"against fresh noise and {fixed['repeat']:.1%} against noise fixed per image, while asking "
             f"{asks * images:,} new images once gives {fresh['new']:.1%} and {fixed['new']:.1%}: ")
    if all(cell["new"] - cell["repeat"] > clear for cell in cells.values()):
        spend += "per exchange, repeating is the worst way to spend them here."
    elif all(cell["repeat"] - cell["new"] > clear for cell in cells.values()):
        spend += "here repeating beats new images, which is unusual; try another seed."
    else:
        spend += "here the two are within about a point of each other, which one run cannot separate."
    if abs(fixed["repeat"] - fixed["once"]) <= clear:
        shift = (f"Fixed noise leaves plain repeats nothing to average ({fixed['once']:.1%} asked once, "
                 f"{fixed['repeat']:.1%} asked {asks}×)")
    else:
        shift = f"Against fixed noise, asking once gave {fixed['once']:.1%} and asking {asks}× {fixed['repeat']:.1%}"
    if fixed["shifted"] - fixed["repeat"] > clear:
        shift += f"; shifting each repeat by one pixel draws fresh noise and brings it to {fixed['shifted']:.1%}."
    else:
        shift += f"; shifting each repeat by one pixel gave {fixed['shifted']:.1%}, within about a point of that."
    return spend, shift
