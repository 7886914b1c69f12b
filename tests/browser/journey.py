"""A user's journey in a real browser, with the checks every visited page must pass.

`Journey` wraps one Playwright browser context (a phone or a desktop, in Vietnamese or English)
and records, from its first request to its end:

- every console error and uncaught page error;
- every request to an origin other than the site's (and, when allowed, the payment stand-in's);
- at each `step()`: axe-core's serious and critical violations, a screenshot, and in English the
  lines of visible text still in Vietnamese that are not the seeded data (names, addresses);
- clicks, for the time-to-list figure.

`finish()` fails with everything that went wrong, page by page.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: Where each journey keeps the screenshots of its key steps (README, "Browser journeys").
SCREENSHOTS = ROOT / "var" / "journeys"

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
DEVICES = {"phone": PHONE, "desktop": DESKTOP}
#: Letters only Vietnamese uses (with their tone marks), never English text.
VIETNAMESE = re.compile(
    "[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
    "ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ]"
)
#: Words that stay Vietnamese in English on purpose: the site's name, the language switcher, the
#: city, and the currency's name as English writes it ("Vietnamese đồng").
ALWAYS_VIETNAMESE = ["Chợ Nổi", "Tiếng Việt", "Cần Thơ", "đồng"]


@dataclass
class Problems:
    console: list = field(default_factory=list)
    foreign: list = field(default_factory=list)
    axe: list = field(default_factory=list)
    untranslated: list = field(default_factory=list)

    def report(self) -> str:
        parts = []
        for name in ("console", "foreign", "axe", "untranslated"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name}:\n  " + "\n  ".join(map(str, items)))
        return "\n".join(parts)


class Journey:
    def __init__(self, browser, base_url: str, name: str, *, device: str, language: str,
                 allowed_origins=(), data_strings=()):
        self.base_url = base_url.rstrip("/")
        self.name, self.device, self.language = name, device, language
        self.allowed = {self.base_url, *[o.rstrip("/") for o in allowed_origins]}
        self.data = sorted({s for s in data_strings if s}, key=len, reverse=True)
        self.problems = Problems()
        self.steps: list[str] = []
        self.clicks = 0
        self.closed = False
        self.folder = SCREENSHOTS / f"{name}-{device}-{language}"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.context = browser.new_context(
            base_url=self.base_url, locale="vi-VN" if language == "vi" else "en-US", **DEVICES[device]
        )
        host = self.base_url.split("//", 1)[1].split(":")[0]
        self.context.add_cookies(
            [{"name": "cho_noi_language", "value": language, "domain": host, "path": "/"}]
        )
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.console.append(f"{self.page.url}: {error}"))
        self.context.on("request", self._request)

    # --- recording ------------------------------------------------------------------------

    def _console(self, message):
        if message.type == "error":
            self.problems.console.append(f"{self.page.url}: {message.text}")

    def _request(self, request):
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return
        origin = "/".join(url.split("/", 3)[:3])
        if origin not in self.allowed:
            self.problems.foreign.append(f"{self.page.url} asked {url}")

    # --- driving --------------------------------------------------------------------------

    def goto(self, path: str):
        return self.page.goto(path)

    def click(self, locator):
        """Click `locator` (a Playwright locator or a selector) and count it as a person's click."""
        target = self.page.locator(locator) if isinstance(locator, str) else locator
        target.click()
        self.clicks += 1

    def login(self, phone: str, password: str):
        self.goto("/account/login/")
        self.page.fill("input[name=username]", phone)
        self.page.fill("input[name=password]", password)
        self.click(self.page.locator("form.form button[type=submit]"))
        self.page.wait_for_load_state()
        assert "/account/login/" not in self.page.url, f"{phone} could not log in"

    def now_ms(self) -> float:
        """The browser's own clock (ms since the epoch)."""
        return self.page.evaluate("Date.now()")

    # --- checks ---------------------------------------------------------------------------

    def step(self, label: str):
        """Check the page as it stands and keep a screenshot of it."""
        self.page.wait_for_load_state("load")
        index = len(self.steps) + 1
        self.steps.append(f"{label}: {self.page.url}")
        self.page.screenshot(path=str(self.folder / f"{index:02d}-{label}.png"), full_page=True)
        for violation in self._axe():
            self.problems.axe.append(f"{label} ({self.page.url}): {violation}")
        if self.language == "en":
            for line in self._vietnamese_lines():
                self.problems.untranslated.append(f"{label} ({self.page.url}): {line!r}")

    def _axe(self) -> list[str]:
        # Evaluated through the DevTools protocol, which the page's CSP does not govern: the site
        # itself allows no inline script.
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        found = self.page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ['violations']});
                return result.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => `${v.impact} ${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
            }"""
        )
        return list(found)

    def _vietnamese_lines(self) -> list[str]:
        text = self.page.evaluate("document.body.innerText")
        lines = []
        for line in text.splitlines():
            rest = line
            for known in [*self.data, *ALWAYS_VIETNAMESE]:
                rest = rest.replace(known, "")
            if VIETNAMESE.search(rest):
                lines.append(line.strip())
        return lines

    def page_weight(self, path: str, storage_state=None) -> int:
        """Bytes on the wire to load `path` from a cold cache: every response's headers and body."""
        context = self.page.context.browser.new_context(
            base_url=self.base_url, storage_state=storage_state or self.context.storage_state(),
            **DEVICES[self.device],
        )
        try:
            page = context.new_page()
            responses = []
            page.on("requestfinished", lambda request: responses.append(request))
            page.goto(path, wait_until="load")
            page.wait_for_load_state("networkidle")
            total = 0
            for request in responses:
                sizes = request.sizes()
                total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            return total
        finally:
            context.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.context.close()

    def finish(self):
        self.close()
        summary = {"journey": self.folder.name, "steps": self.steps, "clicks": self.clicks}
        (self.folder / "steps.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
        report = self.problems.report()
        assert not report, f"{self.folder.name}:\n{report}"
