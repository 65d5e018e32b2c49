"""Accessibility findings of the web client (findings-a11y, tester s8/t4) about the button groups (the desk's
Issue / Return / Receive, EN / RU): the keyboard focus ring is not cut off (A18); in Russian at 320 px the desk
does not scroll sideways (A3); in forced colours (contrast themes) the pressed button still shows (A8)."""

from __future__ import annotations

import pytest
from browser_helpers import sign_in
from playwright.async_api import expect

pytestmark = pytest.mark.e2e

# Whether the focused element's outline is drawn whole: it has one, and no ancestor that clips (overflow other
# than visible) cuts into the outline's box.
RING_SHOWN = """
(element) => {
  const style = getComputedStyle(element);
  const width = parseFloat(style.outlineWidth) || 0;
  if (style.outlineStyle === "none" || width <= 0) return false;
  const grow = width + (parseFloat(style.outlineOffset) || 0);
  const box = element.getBoundingClientRect();
  const ring = { left: box.left - grow, top: box.top - grow, right: box.right + grow, bottom: box.bottom + grow };
  for (let parent = element.parentElement; parent; parent = parent.parentElement) {
    if (getComputedStyle(parent).overflow === "visible") continue;
    const clip = parent.getBoundingClientRect();
    if (ring.left < clip.left || ring.right > clip.right) return false;
    if (ring.top < clip.top || ring.bottom > clip.bottom) return false;
  }
  return true;
}
"""


async def test_the_focus_ring_of_the_desk_modes_and_of_en_ru_is_not_cut_off(new_context, librarian) -> None:
    page = await (await new_context()).new_page()
    await sign_in(page, librarian.email, librarian.password)
    await expect(page.locator("#desk-card")).to_be_focused()
    await page.keyboard.press("Shift+Tab")  # Receive
    await page.keyboard.press("Shift+Tab")  # Return
    returning = page.get_by_role("button", name="Return", exact=True)
    await expect(returning).to_be_focused()
    assert await returning.evaluate(RING_SHOWN)
    english = page.get_by_role("button", name="EN", exact=True)
    await english.focus()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Shift+Tab")  # by keyboard, so that :focus-visible applies
    await expect(english).to_be_focused()
    assert await english.evaluate(RING_SHOWN)


async def test_the_russian_desk_fits_a_320_px_screen(new_context, librarian) -> None:
    page = await (await new_context(viewport={"width": 320, "height": 640})).new_page()
    await sign_in(page, librarian.email, librarian.password)
    await page.get_by_role("button", name="RU", exact=True).click()
    receive = page.get_by_role("button", name="Приём по брони")
    await expect(receive).to_be_visible()
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 320
    box = await receive.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 320


async def test_in_forced_colours_the_pressed_mode_and_language_still_show(new_context, librarian) -> None:
    page = await (await new_context()).new_page()
    await page.emulate_media(forced_colors="active")
    await sign_in(page, librarian.email, librarian.password)
    await page.get_by_role("button", name="Return", exact=True).click()
    pressed = page.get_by_role("button", name="Return", exact=True)
    await expect(pressed).to_have_attribute("aria-pressed", "true")

    def looks(button):
        return button.evaluate(
            "(b) => { const s = getComputedStyle(b); return [s.backgroundColor, s.color, s.textDecorationLine]; }"
        )

    assert await looks(pressed) != await looks(page.get_by_role("button", name="Issue", exact=True))
    assert "underline" in (await looks(pressed))[2]
    english = page.get_by_role("button", name="EN", exact=True)
    await expect(english).to_have_attribute("aria-pressed", "true")
    assert await looks(english) != await looks(page.get_by_role("button", name="RU", exact=True))
