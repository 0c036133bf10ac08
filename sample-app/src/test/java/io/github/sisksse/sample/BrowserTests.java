package io.github.sisksse.sample;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.test.ServletContainer;
import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The sample page in a real browser: headless Chromium, driven through chromedriver by Selenium, against the app
 * on a random port. Each test clicks and types as a person would and waits for the DOM to show the result.
 * <p>
 * Uses Debian's {@code chromium} and {@code chromium-driver} packages ({@code /usr/bin/chromium},
 * {@code /usr/bin/chromedriver}; other paths with the system properties {@code sisk.test.chromium} and
 * {@code sisk.test.chromedriver}). Both paths are given to Selenium, so Selenium Manager never looks for, or
 * downloads, a browser or a driver. Where either is missing the tests are skipped, saying how to install them,
 * unless the environment variable {@code SISK_TEST_BROWSER} is {@code required} (CI sets it): then they fail.
 * A screenshot of each test's last state is written to {@code target/browser-tests}.
 */
@Tag(ServletContainer.TAG)
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class BrowserTests {

	private static final Duration WAIT = Duration.ofSeconds(10);

	/** An event id: a position in the registry's log, {@code <epoch>-<position>}. */
	private static final String ID = "[0-9a-z]+-\\d+";


	private static final Path SCREENSHOTS = Path.of("target", "browser-tests");

	/**
	 * Selenium warns at start when no DevTools module matches the browser's version; these tests use WebDriver only,
	 * never the DevTools protocol. Held here, as a logger's level is lost when the logger is collected.
	 */
	private static final Logger CDP_VERSION_FINDER = Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

	private static ChromeDriverService service;

	private static WebDriver browser;

	private static String firstTab;

	private static String missing;

	@LocalServerPort
	int port;

	@Autowired
	EventSourceRegistry registry;

	@BeforeAll
	static void startTheBrowser(@TempDir Path profile) throws IOException {
		Path chromium = Path.of(System.getProperty("sisk.test.chromium", "/usr/bin/chromium"));
		Path chromedriver = Path.of(System.getProperty("sisk.test.chromedriver", "/usr/bin/chromedriver"));
		if (!Files.isExecutable(chromium) || !Files.isExecutable(chromedriver)) {
			// Each test reports it as the reason it was skipped (a failed assumption here would not be reported).
			missing = "Browser test skipped: no executable " + (Files.isExecutable(chromium) ? chromedriver : chromium)
					+ ". Install Chromium and its driver (Debian, Ubuntu: apt-get install chromium chromium-driver),"
					+ " or name them with -Dsisk.test.chromium=... -Dsisk.test.chromedriver=...";
			if ("required".equals(System.getenv("SISK_TEST_BROWSER"))) {
				// CI installs them: a green build must not hide a browser test that did not run.
				throw new IllegalStateException(missing.replace("skipped", "required (SISK_TEST_BROWSER=required)"));
			}
			LoggerFactory.getLogger(BrowserTests.class).warn(missing);
			return;
		}
		CDP_VERSION_FINDER.setLevel(Level.SEVERE);
		service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile())
			.usingAnyFreePort()
			.withLogOutput(OutputStream.nullOutputStream())
			.build();
		ChromeOptions options = new ChromeOptions();
		options.setBinary(chromium.toFile());
		// Headless; no sandbox (CI runs as root); nothing fetched in the background; a fresh profile.
		options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--window-size=1400,1000", "--user-data-dir=" + profile);
		browser = new ChromeDriver(service, options);
		firstTab = browser.getWindowHandle();
		Files.createDirectories(SCREENSHOTS);
	}

	@AfterAll
	static void stopTheBrowser() {
		if (browser != null) {
			browser.quit();
			browser = null;
		}
		if (service != null) {
			service.stop();
			service = null;
		}
	}

	@BeforeEach
	void openThePage() {
		assumeTrue(missing == null, missing);
		browser.get("http://127.0.0.1:" + this.port + "/");
		eventually(() -> assertThat(text("ticker-state")).isEqualTo("open"));
	}

	@AfterEach
	void leaveThePage(TestInfo test) throws IOException {
		if (browser == null) {
			return;
		}
		Path screenshot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
		Files.move(screenshot, SCREENSHOTS.resolve(test.getTestMethod().orElseThrow().getName() + ".png"),
				StandardCopyOption.REPLACE_EXISTING);
		// Leaving the page closes its EventSources; close the other tabs a test opened.
		for (String tab : browser.getWindowHandles()) {
			browser.switchTo().window(tab);
			browser.get("about:blank");
			if (!tab.equals(firstTab)) {
				browser.close();
			}
		}
		browser.switchTo().window(firstTab);
		this.registry.all().forEach(EventSource::close);
		await().atMost(WAIT).until(() -> this.registry.size() == 0);
	}

	@Test
	void showsTheTickerTheLiveConnectionsAndHelloWithItsCloseEvent() {
		eventually(() -> assertThat(text("ticker-clock")).matches("\\d{1,2}:\\d\\d:\\d\\d.*"));
		eventually(() -> assertThat(items("connections")).anyMatch((id) -> id.startsWith("ticker-")));
		click("hello-run");
		eventually(() -> assertThat(items("hello-log")).hasSize(2));
		assertThat(items("hello-log").get(0)).endsWith("Hello, world!");
		assertThat(items("hello-log").get(1)).endsWith("close event: bye -> es.close()");
	}

	@Test
	void aUserConnectsReceivesWhatIsSentToItAndABroadcastByPrefix() {
		connectAs("browser-alice");
		eventually(() -> assertThat(items("connections")).contains("user-browser-alice"));
		type("send-message", "Hello from the send form");
		click("send-button");
		eventually(() -> assertThat(text("send-result")).isEqualTo("delivered live to user-browser-alice"));
		eventually(() -> assertThat(items("me-log")).anyMatch((line) -> line.contains("Hello from the send form")));
		type("broadcast-prefix", "user-browser-al");
		type("broadcast-message", "Hello, everyone called al...");
		click("broadcast-button");
		eventually(() -> assertThat(text("broadcast-result"))
			.isEqualTo("delivered live to 1 stream(s) starting with \"user-browser-al\""));
		eventually(() -> assertThat(items("me-log")).anyMatch((line) -> line.contains("Hello, everyone called al...")));
		type("broadcast-prefix", "user-nobody-");
		type("broadcast-message", "Anyone?");
		click("broadcast-button");
		eventually(() -> assertThat(text("broadcast-result")).isEqualTo("not sent: no stream starts with \"user-nobody-\""));
		// The ticks have a log of their own: the user's messages are not buried under them.
		eventually(() -> assertThat(lines("me-ticks").get(0)).extracting(Line::id).anyMatch((id) -> id.matches(ID)));
		assertThat(elements("#me-log li.tick")).isEmpty();
	}

	@Test
	void theLogsScrollAndKeepTheirLastLinesOnly() {
		connectAs("browser-bounded");
		for (int i = 1; i <= 250; i++) {
			this.registry.send("user-browser-bounded", "line " + i);
		}
		eventually(() -> assertThat(items("me-log")).last().asString().contains("line 250 "));
		assertThat(items("me-log")).hasSize(200).first().asString().contains("line 51 ");
		Number height = script("return document.getElementById('me-log').clientHeight");
		Number content = script("return document.getElementById('me-log').scrollHeight");
		assertThat(content.intValue()).isGreaterThan(height.intValue());
		assertThat(height.intValue()).isLessThan(400);
		assertThat((String) script("return getComputedStyle(document.getElementById('me-log')).overflowY"))
			.isEqualTo("auto");
		Number hidden = script("const log = document.getElementById('me-log');"
				+ " return log.scrollHeight - log.scrollTop - log.clientHeight");
		assertThat(hidden.intValue()).as("pixels below the view: it follows the newest line").isLessThan(8);
	}

	@Test
	void aResumedStreamFirstReceivesEverythingSentWhileItWasAwayOnceAndInOrder() {
		connectAs("browser-bob");
		eventually(() -> assertThat(text("me-last-id")).matches(ID));
		click("me-disconnect");
		eventually(() -> assertThat(text("me-state")).isEqualTo("closed"));
		String lastSeen = text("me-last-id");
		// The server notices the browser left at its next write, a tick; that tick, and all after it, are missed.
		await().atMost(WAIT).until(() -> this.registry.get("user-browser-bob").isEmpty());
		// Pacing, not an assertion: stay away until the ticker card has shown two more ticks, so that at least one
		// tick is sent to user-browser-bob while it is away.
		String clock = text("ticker-raw");
		eventually(() -> assertThat(text("ticker-raw")).isNotEqualTo(clock));
		String nextClock = text("ticker-raw");
		eventually(() -> assertThat(text("ticker-raw")).isNotEqualTo(nextClock));
		type("send-message", "Sent while you were away");
		click("send-button");
		eventually(() -> assertThat(text("send-result")).isEqualTo(
				"queued for replay: user-browser-bob is reconnecting, and receives it when it resumes"));
		List<String> sent = new ArrayList<>(List.of("Sent while you were away"));
		for (int i = 1; i <= 10; i++) {
			this.registry.send("user-browser-bob", "missed " + i);
			sent.add("missed " + i);
		}
		type("broadcast-prefix", "user-browser-bo");
		type("broadcast-message", "Broadcast while you were away");
		click("broadcast-button");
		eventually(() -> assertThat(text("broadcast-result")).isEqualTo("delivered live to 0 stream(s) starting with"
				+ " \"user-browser-bo\"; queued for replay for 1 reconnecting: user-browser-bob"));
		sent.add("Broadcast while you were away");
		click("me-resume");
		eventually(() -> assertThat(afterResuming(lines("me-log").get(0))).extracting(Line::text)
			.contains("connected", "Broadcast while you were away"));
		// Both logs at once, as they stand.
		List<List<Line>> logs = lines("me-log", "me-ticks");
		List<Line> messages = afterResuming(logs.get(0)).stream().filter((line) -> !line.id().isEmpty()).toList();
		assertThat(messages).as("each message sent while away, once, in order, and nothing else")
			.extracting(Line::text)
			.containsExactlyElementsOf(sent);
		// Ids are positions in the registry's log, "<epoch>-<position>": same epoch, increasing, none seen before.
		List<Long> messagePositions = positions(messages, lastSeen);
		List<Long> tickPositions = positions(afterResuming(logs.get(1)), lastSeen);
		assertThat(messagePositions).isSorted().doesNotHaveDuplicates();
		assertThat(tickPositions).isSorted().doesNotHaveDuplicates().isNotEmpty();
		long seen = position(lastSeen);
		assertThat(Stream.concat(messagePositions.stream(), tickPositions.stream())).allMatch((position) -> position > seen);
		assertThat(tickPositions).as("a tick sent while away, before the first message, is replayed")
			.anyMatch((position) -> position < messagePositions.get(0));
	}

	@Test
	void aTabReplacedByAnotherSaysSoStaysClosedAndTakesTheStreamBackOnlyWhenAsked() {
		connectAs("browser-carol");
		String first = browser.getWindowHandle();
		browser.switchTo().newWindow(WindowType.TAB);
		String second = browser.getWindowHandle();
		openThePage();
		connectAs("browser-carol");
		browser.switchTo().window(first);
		eventually(() -> assertThat(text("me-state")).isEqualTo("replaced"));
		assertThat(items("me-log")).last().asString().contains("replaced: another tab or window opened user-browser-carol");
		assertThat(element("me-resume").isEnabled()).isFalse();
		assertThat(element("me-takeback").isDisplayed()).isTrue();
		// The browser would reconnect by itself after "retry: 3s": the newer tab stays the stream's only one well past it.
		browser.switchTo().window(second);
		int ticks = items("me-ticks").size();
		eventually(() -> assertThat(items("me-ticks")).hasSizeGreaterThanOrEqualTo(ticks + 5));
		assertThat(text("me-state")).isEqualTo("open");
		assertThat(items("me-log")).noneMatch((line) -> line.contains("replaced") || line.contains("closed"));
		browser.switchTo().window(first);
		assertThat(text("me-state")).isEqualTo("replaced");
		click("me-takeback");
		eventually(() -> assertThat(text("me-state")).isEqualTo("open"));
		browser.switchTo().window(second);
		eventually(() -> assertThat(text("me-state")).isEqualTo("replaced"));
		assertThat(this.registry.find((id) -> id.equals("user-browser-carol"))).hasSize(1);
	}

	private void connectAs(String user) {
		type("me-user", user);
		click("me-connect");
		eventually(() -> assertThat(text("me-state")).isEqualTo("open"));
		eventually(() -> assertThat(items("me-log")).last().asString().endsWith("connected"));
	}

	/** The positions of the events of these log lines, checking that they are of the epoch of the given id. */
	private static List<Long> positions(List<Line> lines, String epochOf) {
		String epoch = epochOf.substring(0, epochOf.indexOf('-') + 1);
		return lines.stream().map(Line::id).filter((id) -> !id.isEmpty()).map((id) -> {
			assertThat(id).startsWith(epoch);
			return position(id);
		}).toList();
	}

	private static long position(String id) {
		return Long.parseLong(id.substring(id.indexOf('-') + 1));
	}

	/** The lines of a log after the last "resuming" line. */
	private static List<Line> afterResuming(List<Line> lines) {
		int resumed = -1;
		for (int i = 0; i < lines.size(); i++) {
			if (lines.get(i).text().startsWith("resuming")) {
				resumed = i;
			}
		}
		assertThat(resumed).as("a resuming line in " + lines).isNotNegative();
		return lines.subList(resumed + 1, lines.size());
	}

	/** The lines of these logs, read at once. */
	private static List<List<Line>> lines(String... logs) {
		List<List<List<String>>> read = script("return arguments[0].map((log) => Array.from("
				+ "document.querySelectorAll('#' + log + ' li'), (li) => [li.querySelector('.text').textContent,"
				+ " li.dataset.id || '']))", List.of(logs));
		return read.stream()
			.map((log) -> log.stream().map((line) -> new Line(line.get(0), line.get(1))).toList())
			.toList();
	}

	private static WebElement element(String id) {
		return browser.findElement(By.id(id));
	}

	private static List<WebElement> elements(String css) {
		return browser.findElements(By.cssSelector(css));
	}

	private static String text(String id) {
		return script("return document.getElementById(arguments[0]).textContent", id);
	}

	/** The text of each item of a list, time included, as the page shows it. */
	private static List<String> items(String id) {
		return script("return Array.from(document.querySelectorAll('#' + arguments[0] + ' li'), (li) => li.textContent)",
				id);
	}

	private static void type(String id, String text) {
		WebElement input = element(id);
		input.clear();
		input.sendKeys(text);
	}

	/**
	 * Click a button once it can be clicked, the way the page's own script would: a native click goes to where the
	 * button was when WebDriver measured it, and the page moves under it when a card above it changes height (the
	 * ticker's first tick arriving, the live connections list). In CI the Connect button was once missed that way:
	 * nothing happened, and the stream stayed closed.
	 */
	private static void click(String id) {
		WebElement button = element(id);
		eventually(() -> assertThat(button.isDisplayed() && button.isEnabled()).as(id + " can be clicked").isTrue());
		script("arguments[0].click()", button);
	}

	/**
	 * A line of one of the page's logs: its text, and the id of the event it shows, if any.
	 */
	record Line(String text, String id) {
	}

	@SuppressWarnings("unchecked")
	private static <T> T script(String script, Object... args) {
		return (T) ((JavascriptExecutor) browser).executeScript(script, args);
	}

	private static void eventually(ThrowingRunnable assertion) {
		await().atMost(WAIT).pollInSameThread().pollInterval(Duration.ofMillis(100)).untilAsserted(assertion);
	}

}
