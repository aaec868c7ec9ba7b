package dev.ferry.balancer.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UserHashTest {

    private static final int USERS = 1000;

    @Test
    void aUserKeepsItsBackendWhateverItsAddress() {
        UserHash policy = new UserHash();
        List<Backend> backends = Backends.withWeights(1, 1, 1, 1);
        for (int i = 0; i < 200; i++) {
            Backend b = policy.choose(backends, Backends.address(i), "user" + i, Set.of());
            assertThat(policy.choose(backends, Backends.address(i + 7), "user" + i, Set.of())).isSameAs(b);
        }
    }

    @Test
    void onlyTheDownBackendsUsersMove() {
        UserHash policy = new UserHash();
        List<Backend> backends = Backends.withWeights(1, 1, 1, 1);
        List<Backend> before = choices(policy, backends);
        Backend gone = backends.get(2);
        Backends.markDown(gone);
        List<Backend> after = choices(policy, backends);
        assertMovedOnlyFrom(gone, before, after);
    }

    @Test
    void onlyTheRemovedBackendsUsersMove() {
        UserHash policy = new UserHash();
        List<Backend> backends = Backends.withWeights(1, 1, 1, 1);
        List<Backend> before = choices(policy, backends);
        List<Backend> remaining = new ArrayList<>(backends);
        Backend gone = remaining.remove(1);
        List<Backend> after = choices(policy, remaining);
        assertMovedOnlyFrom(gone, before, after);
    }

    @Test
    void usersComeBackWhenTheirBackendDoes() {
        UserHash policy = new UserHash();
        List<Backend> backends = Backends.withWeights(1, 1, 1, 1);
        List<Backend> before = choices(policy, backends);
        backends.get(0).setAdminState(AdminState.DRAIN);
        choices(policy, backends);
        backends.get(0).setAdminState(AdminState.READY);
        assertThat(choices(policy, backends)).isEqualTo(before);
    }

    private static List<Backend> choices(UserHash policy, List<Backend> backends) {
        List<Backend> out = new ArrayList<>(USERS);
        for (int i = 0; i < USERS; i++) {
            out.add(policy.choose(backends, null, "user" + i, Set.of()));
        }
        return out;
    }

    private static void assertMovedOnlyFrom(Backend gone, List<Backend> before, List<Backend> after) {
        int hadGone = 0;
        for (int i = 0; i < USERS; i++) {
            if (before.get(i) == gone) {
                hadGone++;
                assertThat(after.get(i)).as("user%d left the gone backend", i).isNotSameAs(gone);
            } else {
                assertThat(after.get(i)).as("user%d stays", i).isSameAs(before.get(i));
            }
        }
        assertThat(hadGone).as("the gone backend had about a quarter of the users").isBetween(150, 350);
    }
}
