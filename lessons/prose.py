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
