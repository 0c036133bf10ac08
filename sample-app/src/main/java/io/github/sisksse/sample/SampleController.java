package io.github.sisksse.sample;

import java.util.List;
import java.util.UUID;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
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
 * <li>{@code POST /send/{user}}: send the request body to {@code user-{user}}; 202, or 404 when not connected</li>
 * <li>{@code POST /broadcast?prefix=P}: send the request body to every stream whose identifier starts with
 * {@code P}; answers the number of streams reached</li>
 * <li>{@code GET /connections}: the identifiers of the live streams</li>
 * <li>{@code GET /hello}: Sisk's first example, one message and the close event</li>
 * <li>{@code GET /ticker}: a stream that the {@link Ticker} sends the time to every second</li>
 * </ul>
 */
@RestController
public class SampleController {

	/**
	 * Identifier prefix of personal streams.
	 */
	static final String USER_PREFIX = "user-";

	private final EventSourceRegistry registry;

	/**
	 * Create the controller.
	 * @param registry the auto-configured registry of event sources
	 */
	public SampleController(EventSourceRegistry registry) {
		this.registry = registry;
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
	 * Send a message to one user's stream.
	 * @param user the user name
	 * @param message the text to send
	 * @return {@code 202 Accepted} if the message was queued for the user, {@code 404 Not Found} if the user has
	 * no live stream
	 */
	@PostMapping("/send/{user}")
	public ResponseEntity<Void> send(@PathVariable String user, @RequestBody String message) {
		boolean sent = this.registry.get(USER_PREFIX + user).map((source) -> source.send(message)).orElse(false);
		return sent ? ResponseEntity.accepted().build() : ResponseEntity.notFound().build();
	}

	/**
	 * Send a message to every stream whose identifier starts with the given prefix.
	 * @param prefix the identifier prefix, for example {@code user-}
	 * @param message the text to send
	 * @return the number of streams the message was queued for
	 */
	@PostMapping("/broadcast")
	public int broadcast(@RequestParam String prefix, @RequestBody String message) {
		return this.registry.broadcast(message, (identifier) -> identifier.startsWith(prefix));
	}

	/**
	 * List the live identified streams.
	 * @return their identifiers, sorted
	 */
	@GetMapping("/connections")
	public List<String> connections() {
		return this.registry.all().stream().map(EventSource::identifier).sorted().toList();
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

}
