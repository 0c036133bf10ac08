package io.github.sisksse.integration;

import java.security.Principal;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceOpenedEvent;
import io.github.sisksse.EventSourceRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.event.EventListener;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.HttpStatusEntryPoint;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.util.matcher.RequestHeaderRequestMatcher;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A browser application secured as the README advises: form login with a session cookie (a browser's
 * {@code EventSource} cannot set headers; it sends cookies), streams identified by the logged-in user, CSRF on.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(SecuredApplication.Messages.class)
class SecuredApplication {

	@Bean
	SecurityFilterChain securityFilterChain(HttpSecurity http) throws Exception {
		return http.authorizeHttpRequests((requests) -> requests.requestMatchers("/csrf").permitAll()
			.anyRequest()
			.authenticated())
			.formLogin(Customizer.withDefaults())
			// An EventSource redirected to the login page fails without saying why: answer it 401 instead.
			.exceptionHandling((exceptions) -> exceptions.defaultAuthenticationEntryPointFor(
					new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED),
					new RequestHeaderRequestMatcher("Accept", MediaType.TEXT_EVENT_STREAM_VALUE)))
			.build();
	}

	@Bean
	UserDetailsService users() {
		return new InMemoryUserDetailsManager(user("alice"), user("bob"));
	}

	private static UserDetails user(String name) {
		return User.withUsername(name).password("{noop}" + name + "-password").roles("USER").build();
	}

	@Bean
	Recorder recorder() {
		return new Recorder();
	}

	/**
	 * Records, after Spring Security's filter, the user each asynchronous dispatch was authorised as: a stream's
	 * request ends with such a dispatch.
	 */
	@Bean
	FilterRegistrationBean<Filter> asyncDispatchRecorder(Recorder recorder) {
		FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>((request, response, chain) -> {
			Authentication user = SecurityContextHolder.getContext().getAuthentication();
			recorder.asyncDispatches.add(((HttpServletRequest) request).getRequestURI() + " as "
					+ ((user != null) ? user.getName() : "nobody"));
			chain.doFilter(request, response);
		});
		registration.setDispatcherTypes(DispatcherType.ASYNC);
		// After Spring Security's filter (spring.security.filter.order, -100 by default).
		registration.setOrder(0);
		return registration;
	}

	static class Recorder {

		final List<String> asyncDispatches = new CopyOnWriteArrayList<>();

		final List<String> opened = new CopyOnWriteArrayList<>();

		@EventListener
		void opened(EventSourceOpenedEvent event) {
			this.opened.add(String.valueOf(event.getEventSource().identifier()));
		}

	}

	@RestController
	static class Messages {

		private final EventSourceRegistry registry;

		Messages(EventSourceRegistry registry) {
			this.registry = registry;
		}

		/**
		 * The user's own stream: the identifier is the principal's name, never a request parameter.
		 */
		@GetMapping("/events")
		EventSource events(Principal user) {
			return this.registry.open(user.getName());
		}

		@PostMapping("/messages/{to}")
		int send(@PathVariable String to, @RequestBody String text, Principal from) {
			return this.registry.send(to, from.getName() + ": " + text);
		}

		/**
		 * The token a page of this application would carry, for the client's POSTs.
		 */
		@GetMapping("/csrf")
		String csrf(CsrfToken token) {
			return token.getToken();
		}

	}

}
