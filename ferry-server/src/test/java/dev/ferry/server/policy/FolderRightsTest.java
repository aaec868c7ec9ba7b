package dev.ferry.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FolderRightsTest {

    private static final FolderRights TREE = FolderRights.parse(
            "/=list,download;/upload=list,upload;/shared=list,download,upload,overwrite,delete,rename,mkdir;"
                    + "/shared/private=");

    private static VirtualPath p(String s) {
        try {
            return VirtualPath.of(s);
        } catch (InvalidVirtualPathException e) {
            throw new AssertionError(e);
        }
    }

    /** The deepest grant decides, alone; compared by segments, never by string prefix. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /                      | list,download
            /readme.txt            | list,download
            /upload                | list,upload
            /upload/a/b/c.bin      | list,upload
            /uploads               | list,download
            /shared2/x             | list,download
            /shared/x              | list,download,upload,overwrite,delete,rename,mkdir
            /shared/private        | none
            /shared/private/secret | none
            """)
    void theDeepestGrantDecides(String path, String expected) {
        assertThat(TREE.at(p(path), FolderRights.access(true)))
                .isEqualTo(expected.equals("none") ? Set.of() : FolderRights.parse("/=" + expected).grants().get(0).rights());
    }

    @Test
    void outsideEveryGrantTheAccountsAccessApplies() {
        FolderRights onlyIncoming = FolderRights.parse("/incoming=upload");
        assertThat(onlyIncoming.at(p("/pub/f"), FolderRights.access(false))).containsExactlyInAnyOrder(Right.LIST, Right.DOWNLOAD);
        assertThat(onlyIncoming.at(p("/pub/f"), FolderRights.access(true))).containsExactlyInAnyOrder(Right.values());
        // a grant replaces the access both ways: it opens a drop folder to a read-only account ...
        assertThat(onlyIncoming.allows(Right.UPLOAD, p("/incoming/f"), FolderRights.access(false))).isTrue();
        // ... and closes what a read-write account could otherwise do there
        assertThat(onlyIncoming.allows(Right.DELETE, p("/incoming/f"), FolderRights.access(true))).isFalse();
        assertThat(onlyIncoming.allows(Right.LIST, p("/incoming"), FolderRights.access(true))).isFalse();
    }

    @Test
    void aGrantedFolderItselfIsRemovedOrRenamedUnderItsParentsRights() {
        Set<Right> rw = FolderRights.access(true);
        // inside /shared: its grant
        assertThat(TREE.allowsOnEntry(Right.DELETE, p("/shared/old.txt"), rw)).isTrue();
        assertThat(TREE.allowsOnEntry(Right.RENAME, p("/shared/dir"), rw)).isTrue();
        // /shared itself: the root's grant (list, download)
        assertThat(TREE.allowsOnEntry(Right.DELETE, p("/shared"), rw)).isFalse();
        assertThat(TREE.allowsOnEntry(Right.RENAME, p("/shared"), rw)).isFalse();
        // /shared/private itself: /shared's grant, although nothing is allowed inside it
        assertThat(TREE.allowsOnEntry(Right.DELETE, p("/shared/private"), rw)).isTrue();
        assertThat(TREE.allowsOnEntry(Right.DELETE, p("/shared/private/x"), rw)).isFalse();
        // the root has no parent: its own grant
        assertThat(TREE.allowsOnEntry(Right.MKDIR, p("/"), rw)).isFalse();
        assertThat(FolderRights.parse("/=mkdir").allowsOnEntry(Right.MKDIR, p("/"), rw)).isTrue();
    }

    /**
     * Rights follow paths: a folder with a grant at or below it is never renamed, nor anything renamed onto it, or
     * its files would leave their grant behind (/shared/private renamed to /shared/open would be open to all of
     * /shared's rights) or come under one made for other files.
     */
    @Test
    void noRenameOfOrOntoAPathWithAGrantAtOrBelowIt() {
        Set<Right> rw = FolderRights.access(true);
        FolderRights tree = FolderRights.parse("/home/pub=list,download,rename;/shared=list,rename,delete;"
                + "/shared/private=");
        assertThat(tree.allowsOnEntry(Right.RENAME, p("/shared/private"), rw)).isFalse();
        assertThat(tree.allowsOnEntry(Right.RENAME, p("/home/pub"), rw)).isFalse();
        assertThat(tree.allowsOnEntry(Right.RENAME, p("/home"), rw)).isFalse();
        // beside the grants, and inside them, renames are as before (compared by segments: /home/pub2 is not /home/pub)
        assertThat(tree.allowsOnEntry(Right.RENAME, p("/home/pub2"), rw)).isTrue();
        assertThat(tree.allowsOnEntry(Right.RENAME, p("/home/pub/f"), rw)).isTrue();
        assertThat(tree.allowsOnEntry(Right.RENAME, p("/shared/dir"), rw)).isTrue();
        // only RENAME goes: /shared/private (empty) may still be removed under /shared's delete
        assertThat(tree.atEntry(p("/shared/private"), rw)).containsExactlyInAnyOrder(Right.LIST, Right.DELETE);
        assertThat(tree.grantsAtOrBelow(p("/"))).isTrue();
        assertThat(tree.grantsAtOrBelow(p("/home/pub/f"))).isFalse();
    }

    @Test
    void theTextFormRoundTrips() {
        assertThat(FolderRights.parse(TREE.format())).isEqualTo(TREE);
        assertThat(TREE.format()).isEqualTo("/=list,download;/upload=list,upload;"
                + "/shared=list,download,upload,overwrite,delete,rename,mkdir;/shared/private=");
        assertThat(FolderRights.parse("")).isEqualTo(FolderRights.NONE);
        assertThat(FolderRights.NONE.format()).isEmpty();
        // spaces around right names are ignored, rights come back in Right's order, folders normalised
        assertThat(FolderRights.parse("/a//b/=upload , list").format()).isEqualTo("/a/b=list,upload");
    }

    @Test
    void separatorsInFolderNamesAreEscaped() {
        FolderRights odd = new FolderRights(List.of(
                new FolderRights.Grant(p("/a;b=c,d%e"), EnumSet.of(Right.LIST))));
        assertThat(odd.format()).isEqualTo("/a%3Bb%3Dc%2Cd%25e=list");
        assertThat(FolderRights.parse(odd.format())).isEqualTo(odd);
        assertThat(FolderRights.parse("/x%3bY=list").grants().get(0).folder()).isEqualTo(p("/x;Y"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            /incoming                   | rights grant 1 ('/incoming'): expected /folder=right,right
            /=list;                     | rights grant 2 (''): expected /folder=right,right
            incoming=upload             | rights grant 1 ('incoming=upload'): the folder must start with /
            /=list,fly                  | rights grant 1 ('/=list,fly'): unknown right 'fly'; expected list, download, upload, overwrite, delete, rename, mkdir
            /=LIST                      | rights grant 1 ('/=LIST'): unknown right 'LIST'; expected list, download, upload, overwrite, delete, rename, mkdir
            /=list,,download            | rights grant 1 ('/=list,,download'): unknown right ''; expected list, download, upload, overwrite, delete, rename, mkdir
            /a=list;/a/=upload          | rights grant 2 ('/a/=upload'): folder /a is given twice
            /a,b=list                   | rights grant 1 ('/a,b=list'): a , in a folder name is written %2C
            /a%zz=list                  | rights grant 1 ('/a%zz=list'): % in a folder name starts %25, %3B, %3D or %2C (for %, ;, = and ,)
            /a%=list                    | rights grant 1 ('/a%=list'): % in a folder name starts %25, %3B, %3D or %2C (for %, ;, = and ,)
            """)
    void refusesBadText(String text, String message) {
        assertThatThrownBy(() -> FolderRights.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void refusesAnInvalidFolderName() {
        assertThatThrownBy(() -> FolderRights.parse("/a\u0000b=list"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("rights grant 1 ('/a\u0000b=list'): not a valid folder: ");
    }

    @Test
    void refusesTheSameFolderTwiceInTheModel() {
        assertThatThrownBy(() -> new FolderRights(List.of(
                new FolderRights.Grant(VirtualPath.ROOT, Set.of(Right.LIST)),
                new FolderRights.Grant(VirtualPath.ROOT, Set.of(Right.UPLOAD)))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("folder / is given twice");
    }
}
