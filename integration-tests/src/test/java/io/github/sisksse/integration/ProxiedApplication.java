package io.github.sisksse.integration;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * An open application that a reverse proxy would stand in front of.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(ProxiedApplication.Streams.class)
class ProxiedApplication {

	/**
	 * Open to all: Spring Security is on this module's classpath for {@link SecurityTests}.
	 */
	@Bean
	SecurityFilterChain securityFilterChain(HttpSecurity http) throws Exception {
		return http.authorizeHttpRequests((requests) -> requests.anyRequest().permitAll()).build();
	}

	@RestController
	static class Streams {

		private final EventSourceRegistry registry;

		Streams(EventSourceRegistry registry) {
			this.registry = registry;
		}

		@GetMapping("/open")
		EventSource open(@RequestParam String id) {
			return this.registry.open(id);
		}

	}

}
