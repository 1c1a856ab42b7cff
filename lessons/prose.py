"""Explanations more than one page gives, word for word the same on each."""

CONTROLS_EXPLAINED = """
Soft targets help in two ways that are easy to confuse. They carry the teacher's **knowledge**
(this 4 looks a bit like a 9), and they are simply **soft**, which alone can regularise a network
the way *label smoothing* does (Müller, Kornblith & Hinton 2019; Yuan et al. 2020 found part of
distillation's gain can come from that softness alone). Two controls, trained beside the student on
the same images from the same start, pull these apart:

- the **smoothed-label twin** learns from labels softened evenly (the true digit gets most of the
  probability, every other digit the same small share), exactly as soft on average as the teacher
  at this T: the softness without the knowledge;
- the **shuffled-teacher twin** learns from the teacher's own soft targets with the small
  probabilities shuffled among the wrong digits, per image: same top answer, same numbers, but the
  resemblances point at random digits.

If the distilled student beats both, what it gained was the teacher's knowledge, not just softness.
"""
