"""axe-core in the browser tests: the serious and critical accessibility violations of what a page shows."""

from axe_playwright_python.base import AXE_SCRIPT

SERIOUS = ("serious", "critical")


def with_axe(page):
    """axe-core (as axe-playwright-python ships it) loaded into every page the browser opens, once per page
    rather than once per check: the checks of a page at both widths then share it."""
    page.context.add_init_script(AXE_SCRIPT)
    return page


def problems_on(page, where):
    """The serious and critical axe violations of the page as shown, and whether it is wider than the screen."""
    violations = page.evaluate("() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    found = [
        f"{where}: {violation['id']} ({violation['impact']}) {violation['help']}: "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in violations
        if violation["impact"] in SERIOUS
    ]
    width, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width > screen:
        found.append(f"{where}: the page is {width} px wide on a {screen} px screen")
    return found
