package io.github.sisksse.autoconfigure;

import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.core.io.ClassPathResource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metadata generated from {@link SiskSseProperties} is what IDEs show: every property must be in it, with a
 * description.
 */
class ConfigurationMetadataTests {

	@Test
	void everyPropertyHasADescriptionInTheGeneratedMetadata() throws Exception {
		Map<String, String> descriptions = new HashMap<>();
		try (InputStream in = new ClassPathResource("META-INF/spring-configuration-metadata.json").getInputStream()) {
			for (JsonNode property : JsonMapper.builder().build().readTree(in).get("properties")) {
				JsonNode description = property.get("description");
				descriptions.put(property.get("name").asString(), (description != null) ? description.asString() : "");
			}
		}
		assertThat(descriptions).containsKeys("management.endpoint.eventsources.access",
				"management.health.eventsources.enabled", "management.health.eventlog.enabled");
		descriptions.keySet().removeIf((name) -> !name.startsWith("sisk.sse."));
		assertThat(descriptions).containsOnlyKeys("sisk.sse.enabled", "sisk.sse.application-events", "sisk.sse.wait-for-fail", "sisk.sse.max-lifetime",
				"sisk.sse.retry", "sisk.sse.duplicate-identifier", "sisk.sse.writer-threads", "sisk.sse.write-timeout", "sisk.sse.bind-timeout", "sisk.sse.max-connections",
				"sisk.sse.max-connections-per-client", "sisk.sse.ping.enabled",
				"sisk.sse.ping.interval", "sisk.sse.ping.format", "sisk.sse.ping.message", "sisk.sse.ping.event-name",
				"sisk.sse.ping.resets-wait-for-fail", "sisk.sse.close-event.name", "sisk.sse.close-event.data",
				"sisk.sse.queue.max-events", "sisk.sse.replay.enabled", "sisk.sse.replay.max-events", "sisk.sse.replay.max-bytes",
				"sisk.sse.replay.max-age", "sisk.sse.replay.reset-event", "sisk.sse.queue.max-bytes", "sisk.sse.queue.overflow",
				"sisk.sse.broker", "sisk.sse.redis.key-prefix", "sisk.sse.redis.presence-interval",
				"sisk.sse.server.send-buffer");
		assertThat(descriptions).allSatisfy((name, description) -> assertThat(description).as(name).isNotBlank());
	}

}
