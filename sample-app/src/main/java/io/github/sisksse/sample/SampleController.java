package io.github.sisksse.sample;

import java.util.List;
import java.util.UUID;

import io.github.sisksse.EventLogException;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The HTTP side of the demo: opens streams, finds them again by identifier and sends to them.
 * <ul>
 * <li>{@code GET /events?user=NAME}: a personal stream, registered as {@code user-NAME}</li>
 * <li>{@code POST /send/{user}}: send the request body to the stream {@code user-{user}}: 202 with a
 * {@link Delivery} (delivered live, or queued for replay while its client reconnects), or 404 when the stream has
 * had no client within the replay window, and nothing was sent</li>
 * <li>{@code POST /broadcast?prefix=P}: send the request body to every stream whose identifier starts with
 * {@code P}; answers a {@link Delivery}</li>
 * <li>{@code GET /connections}: the identifiers of the live streams, on every instance</li>
 * <li>{@code GET /hello}: Sisk's first example, one message and the close event</li>
 * <li>{@code GET /ticker}: a stream that the {@link Ticker} sends the time to every second</li>
 * </ul>
 * With {@code sisk.sse.broker=redis}, several instances on one Redis share their streams: a send or broadcast made
 * on one reaches the streams connected to any of them (and a client that resumes on any), and the answers count
 * them all. Which streams another instance has is known as it last reported them, every
 * {@code sisk.sse.redis.presence-interval}.
 */
@RestController
public class SampleController {

	/**
	 * Identifier prefix of personal streams.
	 */
	static final String USER_PREFIX = "user-";

	private final EventSourceRegistry registry;

	private final ReconnectingStreams reconnecting;

	/**
	 * Create the controller.
	 * @param registry the auto-configured registry of event sources
	 * @param reconnecting the streams whose client is between two connections
	 */
	public SampleController(EventSourceRegistry registry, ReconnectingStreams reconnecting) {
		this.registry = registry;
		this.reconnecting = reconnecting;
	}

	/**
	 * Open a personal stream that {@code POST /send/{user}} and {@code POST /broadcast} can reach. Opening a
	 * second stream for the same user replaces the first, which receives the close event.
	 * @param user the user name, not blank
	 * @return the open source; the registry's return value handler turns it into the response
	 */
	@GetMapping("/events")
	public EventSource events(@RequestParam String user) {
		if (user.isBlank()) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "The user name must not be blank");
		}
		return this.registry.open(USER_PREFIX + user);
	}

	/**
	 * Send a message to one user's stream with {@link EventSourceRegistry#send(String, Object)}: to its live
	 * connection, on whichever instance, or, while its browser is between two connections, into its history, so
	 * that the page receives it when it resumes instead of losing it.
	 * @param user the user name
	 * @param message the text to send
	 * @return {@code 202 Accepted} with what was done, or {@code 404 Not Found} (nothing sent) when the stream has
	 * no live connection on any instance and had none within the replay window: nobody would ever receive it
	 */
	@PostMapping("/send/{user}")
	public ResponseEntity<Delivery> send(@PathVariable String user, @RequestBody String message) {
		String identifier = USER_PREFIX + user;
		if (!this.reconnecting.isReachable(identifier)) {
			return ResponseEntity.notFound().build();
		}
		int live = this.registry.send(identifier, message);
		return ResponseEntity.accepted().body(new Delivery(live, (live > 0) ? List.of() : List.of(identifier)));
	}

	/**
	 * Send a message to every stream whose identifier starts with the given prefix, serialised once, with
	 * {@link EventSourceRegistry#sendToPrefix(String, Object)}: to the live ones, on every instance, and to those
	 * between two connections when they resume.
	 * @param prefix the identifier prefix, for example {@code user-}
	 * @param message the text to send
	 * @return what was done
	 */
	@PostMapping("/broadcast")
	public Delivery broadcast(@RequestParam String prefix, @RequestBody String message) {
		int live = this.registry.sendToPrefix(prefix, message);
		return new Delivery(live, this.reconnecting.matching((identifier) -> identifier.startsWith(prefix)));
	}

	/**
	 * List the live identified streams of every instance ({@link EventSourceRegistry#presence()}; on one instance,
	 * those of {@link EventSourceRegistry#all()}).
	 * @return their identifiers, sorted
	 */
	@GetMapping("/connections")
	public List<String> connections() {
		return this.registry.presence().keySet().stream().sorted().toList();
	}

	/**
	 * Sisk's first example: send one message, then close the stream with the configured close event.
	 * @return the emitter of the closing source
	 */
	@GetMapping("/hello")
	public SseEmitter hello() {
		EventSource sse = this.registry.open();
		sse.send("Hello, world!");
		return sse.close();
	}

	/**
	 * Open a stream that receives a tick every second. It is registered under a unique identifier starting with
	 * {@link Ticker#PREFIX}, so that the {@link Ticker} can find it; nobody addresses it by name.
	 * @return the open source
	 */
	@GetMapping("/ticker")
	public EventSource ticker() {
		return this.registry.open(Ticker.PREFIX + UUID.randomUUID());
	}

	/**
	 * Answer a send or broadcast that the event log refused (with {@code sisk.sse.broker=redis}, Redis cannot be
	 * reached): nothing was sent, and open streams stay open.
	 * @param ex the log's failure
	 * @return {@code 503 Service Unavailable}
	 */
	@ExceptionHandler(EventLogException.class)
	public ProblemDetail eventLogUnreachable(EventLogException ex) {
		return ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
				"Nothing was sent: the event log cannot be reached");
	}

	/**
	 * What a send or broadcast did, as JSON: {@code {"live":1,"queuedForReplay":["user-bob"]}}.
	 * @param live the number of open connections it was sent to, on every instance, to be written at once
	 * @param queuedForReplay the streams between two connections that keep it in their history: their client
	 * receives it when it resumes with its last event id (the browser's own reconnect, or the page's Resume)
	 */
	public record Delivery(int live, List<String> queuedForReplay) {
	}

}
