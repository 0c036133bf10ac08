package io.github.sisksse.test;

import java.nio.charset.StandardCharsets;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * An application as a user of the kit would test: controllers returning event sources, and one writing a raw
 * event stream.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class KitTestApplication {

	@RestController
	static class Streams {

		private final EventSourceRegistry registry;

		Streams(EventSourceRegistry registry) {
			this.registry = registry;
		}

		@GetMapping("/hello")
		SseEmitter hello() {
			EventSource sse = this.registry.open();
			sse.send("Hello, world!");
			return sse.close();
		}

		@GetMapping("/open")
		EventSource open(@RequestParam String id) {
			return this.registry.open(id);
		}

		/**
		 * An event stream written by hand, in the wire format's less common forms: a byte order mark, CR and CRLF
		 * line ends, a field without colon, an event left incomplete at the end.
		 */
		@GetMapping("/raw")
		ResponseEntity<byte[]> raw(@RequestHeader(name = "Last-Event-ID", required = false) @Nullable String lastId) {
			String body = "\uFEFFretry: 1500\r: a comment\r\rid: 1\r\ndata: first\r\ndata\r\n\r\n"
					+ "event: echo\ndata: " + ((lastId != null) ? lastId : "none") + "\n\ndata: incomplete\n";
			return ResponseEntity.ok()
				.contentType(MediaType.TEXT_EVENT_STREAM)
				.body(body.getBytes(StandardCharsets.UTF_8));
		}

	}

}
